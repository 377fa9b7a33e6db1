import { Controller, Delete, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import { api, Name, policy, vault } from '@vmcp/contracts';
import { CONNECTORS } from '@vmcp/connectors';
import { Bus } from '@vmcp/messaging';
import type { Request } from 'express';
import { ApiPrincipalResolver } from '../auth/api-principal.js';
import { parseBody, parseParam, parseQuery } from '../http/body.js';

@Controller('api/v1')
export class ConnectionsController {
  constructor(
    private readonly auth: ApiPrincipalResolver,
    private readonly bus: Bus,
  ) {}

  @Get('connectors')
  async connectors(@Req() req: Request) {
    await this.auth.tenant(req);
    return {
      connectors: CONNECTORS.map((c) => ({ id: c.id, name: c.name, description: c.description, auth_types: [...c.auth_types] })),
    };
  }

  @Post('connections')
  async create(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    return this.bus.request(policy.createConnection, { tenant_id, ...parseBody(api.CreateConnectionBody, req) });
  }

  @Get('connections')
  async list(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    return this.bus.request(policy.listConnections, { tenant_id, ...parseQuery(api.PageQuery, req) });
  }

  @Get('connections/:name')
  async get(@Req() req: Request, @Param('name') name: string) {
    const tenant_id = await this.auth.tenant(req);
    return this.bus.request(policy.getConnection, { tenant_id, name: parseParam(Name, name, 'name') });
  }

  @Patch('connections/:name')
  async update(@Req() req: Request, @Param('name') name: string) {
    const tenant_id = await this.auth.tenant(req);
    const body = parseBody(api.UpdateConnectionBody, req);
    return this.bus.request(policy.updateConnection, { tenant_id, name: parseParam(Name, name, 'name'), ...body });
  }

  @Delete('connections/:name')
  @HttpCode(200)
  async remove(@Req() req: Request, @Param('name') name: string) {
    const tenant_id = await this.auth.tenant(req);
    const reply = await this.bus.request(policy.deleteConnection, { tenant_id, name: parseParam(Name, name, 'name') });
    // The accounts are gone from policy; their credentials go from the vault too.
    await Promise.all(reply.account_ids.map((account_id) => this.bus.request(vault.destroyCredential, { tenant_id, account_id })));
    return { name: reply.name, deleted: reply.deleted };
  }
}
