import { Injectable } from '@nestjs/common';
import { staticAuthMatches, VmcpError, type RpcReply, type RpcRequestParsed, type vault } from '@vmcp/contracts';
import { DataSource, nowIso } from '@vmcp/persistence';
import { toColumns } from '../../crypto/aes-gcm.crypto.js';
import { DataKeysService } from '../../keys/data-keys.service.js';
import { sealCredential } from '../credential.crypto.js';
import { upsertCredential, type CredentialChanges } from '../upsert-credential.js';

type Request = RpcRequestParsed<typeof vault.storeCredential>;
type Reply = RpcReply<typeof vault.storeCredential>;

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
    const changes: CredentialChanges = {
      auth_type: req.auth_type,
      key_version: version,
      ...toColumns(sealCredential(key, binding, req.secret)),
      updated_at: now,
    };
    await upsertCredential(this.ds, req.tenant_id, req.account_id, changes, now);
    return { stored: true, key_version: version };
  }
}
