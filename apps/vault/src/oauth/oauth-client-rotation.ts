import { VmcpError } from '@vmcp/contracts';
import type { DataSource } from '@vmcp/persistence';
import { nowIso } from '@vmcp/persistence';
import { fromColumns, toColumns } from '../crypto/aes-gcm.crypto.js';
import type { DataKeysService } from '../keys/data-keys.service.js';
import { clientSecretAad, openText, sealText } from './oauth.crypto.js';
import { OAuthClientEntity } from './oauth.entities.js';

/**
 * Tenant data-key rotation, one batch of OAuth client secrets: re-sealed under
 * `targetVersion`, with a compare-and-set on the row as read (version and nonce), so a
 * client stored in between is never overwritten. Authorization states are not moved:
 * they live minutes, and old key versions are never deleted.
 */
export async function reencryptOAuthClients(
  ds: DataSource,
  keys: DataKeysService,
  tenantId: string,
  targetVersion: number,
  limit: number,
): Promise<{ moved: number; remaining: number }> {
  const repo = ds.getRepository(OAuthClientEntity);
  const stale = () =>
    repo
      .createQueryBuilder('o')
      .where('o.tenant_id = :tenant AND o.key_version IS NOT NULL AND o.key_version < :target', { tenant: tenantId, target: targetVersion });
  const rows = limit > 0 ? await stale().orderBy('o.connection_id', 'ASC').take(limit).getMany() : [];
  let moved = 0;
  for (const row of rows) {
    if (row.key_version === null || row.nonce === null || row.ciphertext === null) continue;
    const unreadable = () => new VmcpError('FAILED_PRECONDITION', `the OAuth client secret of connection ${row.connection_id} cannot be decrypted`);
    const [oldKey, newKey] = [await keys.find(tenantId, row.key_version), await keys.find(tenantId, targetVersion)];
    if (!oldKey || !newKey) throw unreadable();
    const secret = openText(oldKey, clientSecretAad(tenantId, row.connection_id, row.key_version), fromColumns({ nonce: row.nonce, ciphertext: row.ciphertext }), unreadable);
    const sealed = sealText(newKey, clientSecretAad(tenantId, row.connection_id, targetVersion), secret);
    const result = await repo
      .createQueryBuilder()
      .update()
      .set({ key_version: targetVersion, ...toColumns(sealed), updated_at: nowIso() })
      .where('connection_id = :c AND tenant_id = :t AND key_version = :old AND nonce = :nonce', { c: row.connection_id, t: tenantId, old: row.key_version, nonce: row.nonce })
      .execute();
    if (result.affected) moved++;
  }
  return { moved, remaining: await stale().getCount() };
}
