import { Injectable } from '@nestjs/common';
import { policy, vault } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';

/** Authorization links for OAuth accounts: the account record in policy, the link from the vault. */
@Injectable()
export class AuthorizationLinksService {
  constructor(private readonly bus: Bus) {}

  async create(tenantId: string, connectionName: string, identifier: string, redirectUrl: string | undefined) {
    const prepared = await this.bus.request(policy.prepareAccount, { tenant_id: tenantId, connection_name: connectionName, identifier, flow: 'oauth2' });
    const link = await this.bus.request(vault.createAuthorizationLink, {
      tenant_id: tenantId,
      connection_id: prepared.connection_id,
      account_id: prepared.connected_account.id,
      ...(redirectUrl ? { redirect_url: redirectUrl } : {}),
    });
    return { ...link, connected_account_id: prepared.connected_account.id };
  }
}
