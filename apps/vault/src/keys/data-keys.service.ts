import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { VmcpError } from '@vmcp/contracts';
import { DataSource, nowIso } from '@vmcp/persistence';
import { KEY_BYTES } from '../crypto/aes-gcm.crypto.js';
import { unwrapDataKey, wrapDataKey } from './data-key.crypto.js';
import { KEK_PROVIDER, type KeyEncryptionKeyProvider } from './key-encryption-key.provider.js';
import { TenantKeyEntity } from './tenant-key.entity.js';

export interface DataKey {
  readonly version: number;
  /** Shared with the cache: use it, never change or zero it. */
  readonly key: Buffer;
}

/**
 * Per-tenant data keys: version 1 is created on the tenant's first store; each key is
 * unwrapped once and then kept in memory, so a resolve costs no key-encryption-key call.
 */
@Injectable()
export class DataKeysService {
  private readonly unwrapped = new Map<string, Buffer>();
  private readonly creating = new Map<string, Promise<DataKey>>();

  constructor(
    private readonly ds: DataSource,
    @Inject(KEK_PROVIDER) private readonly kek: KeyEncryptionKeyProvider,
  ) {}

  /** The key new credentials of this tenant are sealed with: its newest version, created if it has none. */
  async current(tenantId: string): Promise<DataKey> {
    // Read every time rather than cached: a version added by another replica takes effect at once.
    const newest = await this.repo().findOne({ where: { tenant_id: tenantId }, order: { version: 'DESC' } });
    if (newest) return { version: newest.version, key: await this.unwrap(newest) };
    let pending = this.creating.get(tenantId);
    if (!pending) {
      pending = this.create(tenantId, 1).finally(() => this.creating.delete(tenantId));
      this.creating.set(tenantId, pending);
    }
    return pending;
  }

  /** The key of one version, to open what was sealed under it; undefined when the tenant has no such key. */
  async find(tenantId: string, version: number): Promise<Buffer | undefined> {
    const cached = this.unwrapped.get(cacheKey(tenantId, version));
    if (cached) return cached;
    const row = await this.repo().findOneBy({ tenant_id: tenantId, version });
    return row ? this.unwrap(row) : undefined;
  }

  /**
   * Adds the tenant's next data-key version, which new writes use at once (`current` reads the
   * newest). Older versions stay, so what is sealed under them stays readable until re-encrypted.
   */
  async rotate(tenantId: string): Promise<DataKey> {
    const newest = await this.repo().findOne({ where: { tenant_id: tenantId }, order: { version: 'DESC' } });
    if (!newest) throw new VmcpError('FAILED_PRECONDITION', `tenant ${tenantId} has no data key yet: one is created with its first credential`);
    const version = newest.version + 1;
    try {
      return await this.create(tenantId, version, { mustBeNew: true });
    } catch (err) {
      // Two rotations raced for the same version: the other one won, this one stops.
      if (await this.repo().existsBy({ tenant_id: tenantId, version })) {
        throw new VmcpError('ALREADY_EXISTS', `data key v${version} of tenant ${tenantId} was just created by a concurrent rotation`);
      }
      throw err;
    }
  }

  private async unwrap(row: TenantKeyEntity): Promise<Buffer> {
    const id = cacheKey(row.tenant_id, row.version);
    const cached = this.unwrapped.get(id);
    if (cached) return cached;
    const key = await unwrapDataKey(this.kek, row.tenant_id, row.version, Buffer.from(row.wrapped_key, 'base64'), row.kek_id);
    this.unwrapped.set(id, key);
    return key;
  }

  private async create(tenantId: string, version: number, options: { mustBeNew?: boolean } = {}): Promise<DataKey> {
    const key = randomBytes(KEY_BYTES);
    const wrapped = await wrapDataKey(this.kek, tenantId, version, key);
    try {
      await this.repo().insert({
        tenant_id: tenantId,
        version,
        kek_id: this.kek.id,
        wrapped_key: wrapped.toString('base64'),
        created_at: nowIso(),
      });
    } catch (err) {
      key.fill(0); // never stored: nothing was sealed under it
      if (options.mustBeNew) throw err;
      // Another replica created this version first: use theirs, so every credential of the
      // tenant is sealed under the one key that is stored.
      const theirs = await this.repo().findOneBy({ tenant_id: tenantId, version });
      if (!theirs) throw err;
      return { version, key: await this.unwrap(theirs) };
    }
    this.unwrapped.set(cacheKey(tenantId, version), key);
    return { version, key };
  }

  private repo() {
    return this.ds.getRepository(TenantKeyEntity);
  }
}

function cacheKey(tenantId: string, version: number): string {
  return `${tenantId}|${version}`;
}
