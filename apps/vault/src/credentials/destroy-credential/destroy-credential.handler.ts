import { Injectable } from '@nestjs/common';
import type { RpcReply, RpcRequestParsed, vault } from '@vmcp/contracts';
import { DataSource } from '@vmcp/persistence';
import { OAuthTokensService } from '../../oauth/oauth-tokens.service.js';
import { CredentialEntity } from '../credential.entity.js';

type Request = RpcRequestParsed<typeof vault.destroyCredential>;
type Reply = RpcReply<typeof vault.destroyCredential>;

/**
 * Deletes the sealed credential; idempotent, so a retried disconnect is harmless. An OAuth
 * grant is revoked at the provider first, where it offers a revocation endpoint.
 */
@Injectable()
export class DestroyCredentialHandler {
  constructor(
    private readonly ds: DataSource,
    private readonly oauth: OAuthTokensService,
  ) {}

  async execute(req: Request): Promise<Reply> {
    const repo = this.ds.getRepository(CredentialEntity);
    const row = await repo.findOneBy({ account_id: req.account_id, tenant_id: req.tenant_id });
    const revoked = row?.auth_type === 'oauth2' ? await this.oauth.revoke(row) : false;
    const result = await repo.delete({ account_id: req.account_id, tenant_id: req.tenant_id });
    return { destroyed: (result.affected ?? 0) > 0, ...(row?.auth_type === 'oauth2' ? { revoked_at_provider: revoked } : {}) };
  }
}
