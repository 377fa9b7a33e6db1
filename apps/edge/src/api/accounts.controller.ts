import { Controller, Delete, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { AccountId, api, policy, staticAuthMatches, vault, VmcpError } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import type { Request, Response } from 'express';
import { ApiPrincipalResolver } from '../auth/api-principal.js';
import { parseBody, parseParam, parseQuery } from '../http/body.js';
import { TenantApiService } from './tenant-api.service.js';

@Controller('api/v1/connected_accounts')
export class AccountsController {
  constructor(
    private readonly auth: ApiPrincipalResolver,
    private readonly bus: Bus,
    private readonly ops: TenantApiService,
  ) {}

  /**
   * Upsert on (connection, identifier). The credential goes from here straight to the
   * vault; policy only learns that the account is ACTIVE.
   */
  @Post()
  async upsert(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const tenant_id = await this.auth.tenant(req);
    const body = parseBody(api.UpsertAccountBody, req);
    const { connected_account, created } = await this.bus.request(policy.prepareAccount, {
      tenant_id,
      connection_name: body.connection_name,
      identifier: body.identifier,
    });
    const secret = body.authorization_details.static_auth;
    if (!staticAuthMatches(connected_account.auth_type, secret)) {
      throw new VmcpError(
        'INVALID_ARGUMENT',
        `authorization_details.static_auth does not fit auth_type ${connected_account.auth_type} of connection ${body.connection_name}`,
      );
    }
    await this.bus.request(vault.storeCredential, {
      tenant_id,
      account_id: connected_account.id,
      auth_type: connected_account.auth_type,
      secret,
    });
    const activated = await this.bus.request(policy.setAccountStatus, { tenant_id, account_id: connected_account.id, status: 'ACTIVE' });
    res.status(created ? 201 : 200);
    return activated;
  }

  /** A short-lived link that takes the user through the provider's consent (OAuth connections). */
  @Post('authorization_link')
  @HttpCode(200)
  async authorizationLink(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    return this.ops.authorizationLink(tenant_id, parseBody(api.AuthorizationLinkBody, req));
  }

  @Get()
  async list(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    return this.ops.listAccounts(tenant_id, parseQuery(api.ListAccountsQuery, req));
  }

  @Get(':id')
  async get(@Req() req: Request, @Param('id') id: string) {
    const tenant_id = await this.auth.tenant(req);
    return this.ops.getAccount(tenant_id, { id: parseParam(AccountId, id, 'id') });
  }

  /** Disconnects first (policy refuses the next call at once), then destroys the credential. */
  @Delete(':id')
  @HttpCode(200)
  async remove(@Req() req: Request, @Param('id') id: string) {
    const tenant_id = await this.auth.tenant(req);
    const account_id = parseParam(AccountId, id, 'id');
    const reply = await this.bus.request(policy.setAccountStatus, { tenant_id, account_id, status: 'DISCONNECTED' });
    await this.bus.request(vault.destroyCredential, { tenant_id, account_id });
    return reply;
  }
}
