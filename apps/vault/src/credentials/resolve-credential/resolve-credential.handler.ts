import { Inject, Injectable } from '@nestjs/common';
import { AuthType, VmcpError, type RpcReply, type RpcRequestParsed, type vault } from '@vmcp/contracts';
import { DataSource } from '@vmcp/persistence';
import { VMCP_LOGGER } from '@vmcp/runtime';
import { metrics, type Logger } from '@vmcp/telemetry';
import { fromColumns } from '../../crypto/aes-gcm.crypto.js';
import { DataKeyUnwrapError } from '../../keys/data-key.crypto.js';
import { CredentialGrantVerifier } from '../../grants/credential-grant.verifier.js';
import { DataKeysService } from '../../keys/data-keys.service.js';
import { OAuthTokensService } from '../../oauth/oauth-tokens.service.js';
import { CredentialEntity } from '../credential.entity.js';
import { openCredential, undecryptableCredential } from '../credential.crypto.js';

type Request = RpcRequestParsed<typeof vault.resolveCredential>;
type Reply = RpcReply<typeof vault.resolveCredential>;

/**
 * Decrypts one account's credential for the executor. The plaintext exists only in the
 * reply to that request; it is not cached, logged or put in any error.
 */
@Injectable()
export class ResolveCredentialHandler {
  constructor(
    private readonly ds: DataSource,
    private readonly keys: DataKeysService,
    private readonly grants: CredentialGrantVerifier,
    private readonly oauth: OAuthTokensService,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  async execute(req: Request): Promise<Reply> {
    // Before any row is read: without policy's grant for this account there is nothing to find.
    await this.grants.verify(req.grant, req.tenant_id, req.account_id);
    const row = await this.ds.getRepository(CredentialEntity).findOneBy({ account_id: req.account_id, tenant_id: req.tenant_id });
    if (!row) throw new VmcpError('NOT_FOUND', `no credential stored for account ${req.account_id}`);

    const authType = AuthType.safeParse(row.auth_type);
    if (!authType.success) throw this.unreadable(row, 'unknown auth_type');
    let key: Buffer | undefined;
    try {
      key = await this.keys.find(req.tenant_id, row.key_version);
    } catch (err) {
      if (err instanceof DataKeyUnwrapError) throw this.unreadable(row, 'data key cannot be unwrapped');
      throw err;
    }
    if (!key) throw this.unreadable(row, 'no data key of that version for this tenant');
    // OAuth: the access token, refreshed first when due or refused upstream.
    if (authType.data === 'oauth2') return this.oauth.resolve(row, req.rejected_token);

    const binding = { tenantId: req.tenant_id, accountId: req.account_id, keyVersion: row.key_version, authType: authType.data };
    try {
      const secret = openCredential(key, binding, fromColumns(row));
      metrics().vault.decrypt(authType.data, 'ok');
      return { auth_type: authType.data, secret };
    } catch (err) {
      metrics().vault.decrypt(authType.data, 'failed');
      // openCredential's messages name the account and the failure, never the bytes.
      if (err instanceof VmcpError) this.logUnreadable(row, err.message);
      throw err;
    }
  }

  private unreadable(row: CredentialEntity, reason: string): VmcpError {
    metrics().vault.decrypt(row.auth_type, 'failed');
    this.logUnreadable(row, reason);
    return undecryptableCredential(row.account_id);
  }

  // Operators need to tell tampering or a wrong master key from a missing row: ids and a
  // reason only, the caller gets the one generic message.
  private logUnreadable(row: CredentialEntity, reason: string): void {
    this.logger.warn(
      { tenant_id: row.tenant_id, account_id: row.account_id, key_version: row.key_version, reason },
      'credential cannot be decrypted',
    );
  }
}
