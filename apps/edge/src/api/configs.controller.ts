import { Controller, Delete, Get, HttpCode, Param, Post, Put, Req } from '@nestjs/common';
import { api, ConfigId, policy, TokenId } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import type { Request } from 'express';
import { ApiPrincipalResolver } from '../auth/api-principal.js';
import { RevocationsService } from '../auth/revocations.service.js';
import { parseBody, parseParam, parseQuery } from '../http/body.js';
import { TenantApiService } from './tenant-api.service.js';

@Controller('api/v1/mcp')
export class ConfigsController {
  constructor(
    private readonly auth: ApiPrincipalResolver,
    private readonly bus: Bus,
    private readonly ops: TenantApiService,
    private readonly revocations: RevocationsService,
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
    const reply = await this.bus.request(policy.deleteConfig, { tenant_id, config_id: parseParam(ConfigId, id, 'config_id') });
    this.revocations.revoke(reply.config_id);
    return reply;
  }

  @Post('configs/:config_id/tokens')
  async mint(@Req() req: Request, @Param('config_id') id: string) {
    const tenant_id = await this.auth.tenant(req);
    const config_id = parseParam(ConfigId, id, 'config_id');
    return this.ops.mintToken(tenant_id, { config_id, ...parseBody(api.MintTokenBody, req) });
  }

  @Delete('tokens/:token_id')
  @HttpCode(200)
  async revoke(@Req() req: Request, @Param('token_id') id: string) {
    const tenant_id = await this.auth.tenant(req);
    return this.ops.revokeToken(tenant_id, { token_id: parseParam(TokenId, id, 'token_id') });
  }

  @Post('configs/:config_id/connected_accounts')
  @HttpCode(200)
  async accounts(@Req() req: Request, @Param('config_id') id: string) {
    const tenant_id = await this.auth.tenant(req);
    const config_id = parseParam(ConfigId, id, 'config_id');
    return this.ops.configAccounts(tenant_id, { config_id, ...parseBody(api.ConfigAccountsBody, req) });
  }
}
