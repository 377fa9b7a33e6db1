import { Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { api, ApiKeyId, policy, TenantId } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import type { Request } from 'express';
import { ApiPrincipalResolver } from '../auth/api-principal.js';
import { parseBody, parseParam, parseQuery } from '../http/body.js';

/** Platform admin operations: tenants and their API keys. */
@Controller('api/v1/tenants')
export class TenantsController {
  constructor(
    private readonly auth: ApiPrincipalResolver,
    private readonly bus: Bus,
  ) {}

  @Post()
  async create(@Req() req: Request) {
    await this.auth.admin(req);
    const body = parseBody(api.CreateTenantBody, req);
    const { tenant, api_key } = await this.bus.request(policy.createTenant, body);
    return { tenant, api_key };
  }

  @Get()
  async list(@Req() req: Request) {
    await this.auth.admin(req);
    return this.bus.request(policy.listTenants, parseQuery(api.PageQuery, req));
  }

  @Post(':tenant_id/api_keys')
  async createKey(@Req() req: Request, @Param('tenant_id') tenantId: string) {
    await this.auth.admin(req);
    return this.bus.request(policy.createApiKey, { tenant_id: parseParam(TenantId, tenantId, 'tenant_id') });
  }

  @Delete(':tenant_id/api_keys/:key_id')
  @HttpCode(200)
  async revokeKey(@Req() req: Request, @Param('tenant_id') tenantId: string, @Param('key_id') keyId: string) {
    await this.auth.admin(req);
    return this.bus.request(policy.revokeApiKey, {
      tenant_id: parseParam(TenantId, tenantId, 'tenant_id'),
      key_id: parseParam(ApiKeyId, keyId, 'key_id'),
    });
  }
}
