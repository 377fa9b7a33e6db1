import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { nowIso, DataSource } from '@vmcp/persistence';
import { dataKeyAad } from '../crypto/envelope.js';
import { KEK_PROVIDER, type KeyEncryptionKeyProvider } from '../crypto/kek-provider.js';
import { TenantKeyEntity } from './tenant-key.entity.js';

export interface DataKey {
  readonly version: number;
  readonly key: Buffer;
}

/** Per-tenant data keys: created on first use, unwrapped once and kept in memory. */
@Injectable()
export class DataKeysService {
  private readonly cache = new Map<string, Buffer>();
  private readonly creating = new Map<string, Promise<DataKey>>();

  constructor(
    private readonly ds: DataSource,
    @Inject(KEK_PROVIDER) private readonly kek: KeyEncryptionKeyProvider,
  ) {}

  /** The key new writes of this tenant use (its newest version), created if missing. */
  async current(tenantId: string): Promise<DataKey> {
    const latest = await this.ds.getRepository(TenantKeyEntity).findOne({ where: { tenant_id: tenantId }, order: { version: 'DESC' } });
    if (latest) return { version: latest.version, key: await this.unwrap(latest) };
    let pending = this.creating.get(tenantId);
    if (!pending) {
      pending = this.create(tenantId, 1).finally(() => this.creating.delete(tenantId));
      this.creating.set(tenantId, pending);
    }
    return pending;
  }

  /** A specific version, for reading rows written under it. */
  async version(tenantId: string, version: number): Promise<Buffer | undefined> {
    const cached = this.cache.get(`${tenantId}:${version}`);
    if (cached) return cached;
    const row = await this.ds.getRepository(TenantKeyEntity).findOneBy({ tenant_id: tenantId, version });
    return row ? this.unwrap(row) : undefined;
  }

  private async unwrap(row: TenantKeyEntity): Promise<Buffer> {
    const id = `${row.tenant_id}:${row.version}`;
    const cached = this.cache.get(id);
    if (cached) return cached;
    const key = await this.kek.unwrap(
      { nonce: Buffer.from(row.nonce, 'base64'), ciphertext: Buffer.from(row.wrapped_key, 'base64') },
      dataKeyAad(row.tenant_id, row.version),
    );
    this.cache.set(id, key);
    return key;
  }

  private async create(tenantId: string, version: number): Promise<DataKey> {
    const key = randomBytes(32);
    const wrapped = await this.kek.wrap(key, dataKeyAad(tenantId, version));
    const repo = this.ds.getRepository(TenantKeyEntity);
    try {
      await repo.insert({
        tenant_id: tenantId,
        version,
        kek_id: this.kek.id,
        nonce: wrapped.nonce.toString('base64'),
        wrapped_key: wrapped.ciphertext.toString('base64'),
        created_at: nowIso(),
      });
    } catch {
      // Another replica created it first: use theirs so every row agrees.
      const row = await repo.findOneByOrFail({ tenant_id: tenantId, version });
      return { version, key: await this.unwrap(row) };
    }
    this.cache.set(`${tenantId}:${version}`, key);
    return { version, key };
  }
}
