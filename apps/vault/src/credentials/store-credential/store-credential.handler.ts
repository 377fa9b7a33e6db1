import { Injectable } from '@nestjs/common';
import { staticAuthMatches, VmcpError, type RpcReply, type RpcRequestParsed, type vault } from '@vmcp/contracts';
import { DataSource, nowIso } from '@vmcp/persistence';
import { toColumns } from '../../crypto/aes-gcm.crypto.js';
import { DataKeysService } from '../../keys/data-keys.service.js';
import { CredentialEntity } from '../credential.entity.js';
import { sealCredential } from '../credential.crypto.js';

type Request = RpcRequestParsed<typeof vault.storeCredential>;
type Reply = RpcReply<typeof vault.storeCredential>;
type Changes = Pick<CredentialEntity, 'auth_type' | 'key_version' | 'nonce' | 'ciphertext' | 'updated_at'>;

/** Seals a credential under the tenant's current data key and upserts it. */
@Injectable()
export class StoreCredentialHandler {
  constructor(
    private readonly ds: DataSource,
    private readonly keys: DataKeysService,
  ) {}

  async execute(req: Request): Promise<Reply> {
    // Edge checks this too; the vault refuses to hold a credential nobody could use.
    if (!staticAuthMatches(req.auth_type, req.secret)) {
      throw new VmcpError('INVALID_ARGUMENT', `secret does not fit auth_type ${req.auth_type}`);
    }
    const { version, key } = await this.keys.current(req.tenant_id);
    const binding = { tenantId: req.tenant_id, accountId: req.account_id, keyVersion: version, authType: req.auth_type };
    const now = nowIso();
    const changes: Changes = {
      auth_type: req.auth_type,
      key_version: version,
      ...toColumns(sealCredential(key, binding, req.secret)),
      updated_at: now,
    };
    await this.upsert(req.tenant_id, req.account_id, changes, now);
    return { stored: true, key_version: version };
  }

  /**
   * Update-then-insert rather than a dialect's ON CONFLICT: the update is filtered by tenant,
   * so an account id owned by another tenant is never overwritten, and the same code runs
   * on SQLite and PostgreSQL.
   */
  private async upsert(tenantId: string, accountId: string, changes: Changes, now: string): Promise<void> {
    const repo = this.ds.getRepository(CredentialEntity);
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
}
