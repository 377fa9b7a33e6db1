import { VmcpError } from '@vmcp/contracts';
import { type DataSource, nowIso } from '@vmcp/persistence';
import { fromColumns, toColumns } from '../crypto/aes-gcm.crypto.js';
import { CredentialEntity } from '../credentials/credential.entity.js';
import { resealCredential, storedCredentialBinding, undecryptableCredential } from '../credentials/credential.crypto.js';
import { unwrapDataKey, wrapDataKey } from '../keys/data-key.crypto.js';
import type { DataKeysService } from '../keys/data-keys.service.js';
import type { KeyEncryptionKeyProvider } from '../keys/key-encryption-key.provider.js';
import { TenantKeyEntity } from '../keys/tenant-key.entity.js';

/** What one batch did: rows moved, and rows still waiting after it. */
export interface BatchResult {
  readonly moved: number;
  readonly remaining: number;
}

/**
 * Master-key rotation, one batch: re-wraps data keys not yet wrapped by the current master
 * key. Each row is updated only if it is still the one that was read (compare-and-set on
 * its wrapped bytes), so two replicas on the same job never undo each other, and a job
 * stopped anywhere resumes by simply running again.
 */
export async function rewrapDataKeys(ds: DataSource, kek: KeyEncryptionKeyProvider, limit: number): Promise<BatchResult> {
  const repo = ds.getRepository(TenantKeyEntity);
  const stale = () => repo.createQueryBuilder('k').where('k.kek_id <> :target', { target: kek.id });
  const rows = await stale().orderBy('k.tenant_id', 'ASC').addOrderBy('k.version', 'ASC').take(limit).getMany();
  let moved = 0;
  for (const row of rows) {
    const dataKey = await unwrapDataKey(kek, row.tenant_id, row.version, Buffer.from(row.wrapped_key, 'base64'), row.kek_id);
    let wrapped: Buffer;
    try {
      wrapped = await wrapDataKey(kek, row.tenant_id, row.version, dataKey);
    } finally {
      dataKey.fill(0);
    }
    const result = await repo
      .createQueryBuilder()
      .update()
      .set({ kek_id: kek.id, wrapped_key: wrapped.toString('base64') })
      .where('tenant_id = :tenant AND version = :version AND kek_id = :kek AND wrapped_key = :wrapped', {
        tenant: row.tenant_id,
        version: row.version,
        kek: row.kek_id,
        wrapped: row.wrapped_key,
      })
      .execute();
    if (result.affected) moved++;
  }
  return { moved, remaining: await stale().getCount() };
}

/**
 * Tenant data-key rotation, one batch: re-encrypts credentials of the tenant sealed under a
 * version older than `targetVersion`. The plaintext is never parsed (OAuth token sets move
 * like static secrets). The update is a compare-and-set on the row as read (key version,
 * updated_at and nonce, which is fresh on every write), so a store that lands in between is
 * never overwritten; its row already carries the new version or is picked up by a later batch.
 */
export async function reencryptCredentials(
  ds: DataSource,
  keys: DataKeysService,
  tenantId: string,
  targetVersion: number,
  limit: number,
): Promise<BatchResult> {
  const repo = ds.getRepository(CredentialEntity);
  const stale = () =>
    repo.createQueryBuilder('c').where('c.tenant_id = :tenant AND c.key_version < :target', { tenant: tenantId, target: targetVersion });
  const rows = await stale().orderBy('c.account_id', 'ASC').take(limit).getMany();
  if (rows.length === 0) return { moved: 0, remaining: 0 };
  const targetKey = await keys.find(tenantId, targetVersion);
  if (!targetKey) throw new VmcpError('FAILED_PRECONDITION', `data key v${targetVersion} of tenant ${tenantId} does not exist`);
  let moved = 0;
  for (const row of rows) {
    const binding = storedCredentialBinding(row);
    if (!binding) throw new VmcpError('FAILED_PRECONDITION', `credential for account ${row.account_id} has an unknown auth_type`);
    const oldKey = await keys.find(tenantId, row.key_version);
    if (!oldKey) throw undecryptableCredential(row.account_id);
    const sealed = resealCredential(
      { key: oldKey, binding, sealed: fromColumns(row) },
      { key: targetKey, binding: { ...binding, keyVersion: targetVersion } },
    );
    const result = await repo
      .createQueryBuilder()
      .update()
      // updated_at moves too: writers that compare-and-set on it see that the row changed.
      .set({ key_version: targetVersion, ...toColumns(sealed), updated_at: nowIso() })
      .where('account_id = :account AND tenant_id = :tenant AND key_version = :old AND updated_at = :updated AND nonce = :nonce', {
        account: row.account_id,
        tenant: tenantId,
        old: row.key_version,
        updated: row.updated_at,
        nonce: row.nonce,
      })
      .execute();
    if (result.affected) moved++;
  }
  return { moved, remaining: await stale().getCount() };
}
