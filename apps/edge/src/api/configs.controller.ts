import { Controller, Delete, Get, HttpCode, Param, Post, Put, Req } from '@nestjs/common';
import { api, ConfigId, policy, TokenId } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import type { Request } from 'express';
import { ApiPrincipalResolver } from '../auth/api-principal.js';
import { parseBody, parseParam, parseQuery } from '../http/body.js';
import { AuthorizationLinksService } from '../oauth/authorization-links.service.js';

@Controller('api/v1/mcp')
export class ConfigsController {
  constructor(
    private readonly auth: ApiPrincipalResolver,
    private readonly bus: Bus,
    private readonly links: AuthorizationLinksService,
  ) {}

  @Post('configs')
  async create(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    return this.bus.request(policy.createConfig, { tenant_id, ...parseBody(policy.ConfigInput, req) });
  }

  @Get('configs')
  async list(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    return this.bus.request(policy.listConfigs, { tenant_id, ...parseQuery(api.PageQuery, req) });
  }

  @Get('configs/:config_id')
  async get(@Req() req: Request, @Param('config_id') id: string) {
    const tenant_id = await this.auth.tenant(req);
    return this.bus.request(policy.getConfig, { tenant_id, config_id: parseParam(ConfigId, id, 'config_id') });
  }

  @Put('configs/:config_id')
  async replace(@Req() req: Request, @Param('config_id') id: string) {
    const tenant_id = await this.auth.tenant(req);
    const config_id = parseParam(ConfigId, id, 'config_id');
    return this.bus.request(policy.replaceConfig, { tenant_id, config_id, ...parseBody(policy.ConfigInput, req) });
  }

  @Delete('configs/:config_id')
  @HttpCode(200)
  async remove(@Req() req: Request, @Param('config_id') id: string) {
    const tenant_id = await this.auth.tenant(req);
    return this.bus.request(policy.deleteConfig, { tenant_id, config_id: parseParam(ConfigId, id, 'config_id') });
  }

  @Post('configs/:config_id/tokens')
  async mint(@Req() req: Request, @Param('config_id') id: string) {
    const tenant_id = await this.auth.tenant(req);
    const config_id = parseParam(ConfigId, id, 'config_id');
    return this.bus.request(policy.mintToken, { tenant_id, config_id, ...parseBody(api.MintTokenBody, req) });
  }

  @Delete('tokens/:token_id')
  @HttpCode(200)
  async revoke(@Req() req: Request, @Param('token_id') id: string) {
    const tenant_id = await this.auth.tenant(req);
    return this.bus.request(policy.revokeToken, { tenant_id, token_id: parseParam(TokenId, id, 'token_id') });
  }

  @Post('configs/:config_id/connected_accounts')
  @HttpCode(200)
  async accounts(@Req() req: Request, @Param('config_id') id: string) {
    const tenant_id = await this.auth.tenant(req);
    const config_id = parseParam(ConfigId, id, 'config_id');
    const { identifier, include_auth_link, redirect_url } = parseBody(api.ConfigAccountsBody, req);
    const { connected_accounts } = await this.bus.request(policy.configAccounts, { tenant_id, config_id, identifier });
    if (!include_auth_link) return { connected_accounts };
    // A fresh link for every OAuth connection the user still has to authorize, so the
    // tenant's app can send them through before minting a token.
    return {
      connected_accounts: await Promise.all(
        connected_accounts.map(async (a) => {
          if (a.auth_type !== 'oauth2' || a.connected_account_status === 'ACTIVE') return a;
          const link = await this.links.create(tenant_id, a.connection_name, identifier, redirect_url);
          return {
            ...a,
            connected_account_id: link.connected_account_id,
            connected_account_status: a.connected_account_status === 'NOT_CONNECTED' ? ('PENDING_AUTH' as const) : a.connected_account_status,
            authentication_link: link.link,
            authentication_link_expires_at: link.expires_at,
          };
        }),
      ),
    };
  }
}
