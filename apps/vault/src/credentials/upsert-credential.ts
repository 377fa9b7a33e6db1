import { VmcpError } from '@vmcp/contracts';
import type { DataSource } from '@vmcp/persistence';
import { CredentialEntity } from './credential.entity.js';

/** The columns a store (static credential or OAuth token set) writes over a row. */
export type CredentialChanges = Partial<Omit<CredentialEntity, 'account_id' | 'tenant_id' | 'created_at'>> &
  Pick<CredentialEntity, 'auth_type' | 'key_version' | 'nonce' | 'ciphertext' | 'updated_at'>;

/**
 * Writes one account's credential row, creating it if needed. Update-then-insert rather
 * than a dialect's ON CONFLICT: the update is filtered by tenant, so an account id owned by
 * another tenant is never overwritten, and the same code runs on SQLite and PostgreSQL.
 */
export async function upsertCredential(ds: DataSource, tenantId: string, accountId: string, changes: CredentialChanges, now: string): Promise<void> {
  const repo = ds.getRepository(CredentialEntity);
  const mine = { account_id: accountId, tenant_id: tenantId };
  const update = async () => ((await repo.update(mine, changes)).affected ?? 0) > 0;
  if (await update()) return;
  try {
    await repo.insert({ ...mine, ...changes, created_at: now });
  } catch (err) {
    const owner = await repo.findOne({ where: { account_id: accountId }, select: { tenant_id: true } });
    if (!owner) throw err;
    // Same answer as for an unknown account: one tenant learns nothing about another's ids.
    if (owner.tenant_id !== tenantId) throw new VmcpError('NOT_FOUND', `connected account ${accountId} not found`);
    // A concurrent store of the same account inserted first; this write comes after it.
    if (!(await update())) throw err;
  }
}
