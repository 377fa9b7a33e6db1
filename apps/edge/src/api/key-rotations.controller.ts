import { Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { api, KeyRotationId, vaultKeys, VmcpError } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import type { Request } from 'express';
import { ApiPrincipalResolver } from '../auth/api-principal.js';
import { parseBody, parseParam, parseQuery } from '../http/body.js';

/**
 * Key rotations of the vault. The admin key rotates the master key or any tenant's data key
 * and sees every job; a tenant key rotates its own tenant's data key and sees only its own
 * jobs. The tenant always comes from the key, never from the body or query.
 */
@Controller('api/v1/key_rotations')
export class KeyRotationsController {
  constructor(
    private readonly auth: ApiPrincipalResolver,
    private readonly bus: Bus,
  ) {}

  /** 202: the job was accepted and runs in the vault; poll it for progress. */
  @Post()
  @HttpCode(202)
  async start(@Req() req: Request) {
    const principal = await this.auth.resolve(req);
    const body = parseBody(api.StartKeyRotationBody, req);
    if (principal.kind === 'tenant') {
      if (body.scope === 'master') throw new VmcpError('FORBIDDEN', 'a master-key rotation needs the platform admin key');
      if (body.tenant_id !== undefined) {
        throw new VmcpError('INVALID_ARGUMENT', "tenant_id: not accepted with a tenant API key, which rotates its own tenant's key");
      }
      return this.bus.request(vaultKeys.startTenantRotation, { tenant_id: principal.tenant_id });
    }
    if (body.scope === 'master') return this.bus.request(vaultKeys.startMasterRotation, {});
    if (body.tenant_id === undefined) throw new VmcpError('INVALID_ARGUMENT', 'tenant_id: required with the admin key');
    return this.bus.request(vaultKeys.startTenantRotation, { tenant_id: body.tenant_id });
  }

  @Get()
  async list(@Req() req: Request) {
    const principal = await this.auth.resolve(req);
    const query = parseQuery(api.ListKeyRotationsQuery, req);
    if (principal.kind === 'admin') return this.bus.request(vaultKeys.listRotations, query);
    if (query.tenant_id !== undefined) throw new VmcpError('INVALID_ARGUMENT', 'tenant_id: not accepted with a tenant API key');
    if (query.scope === 'master') return { key_rotations: [] };
    return this.bus.request(vaultKeys.listRotations, { ...query, scope: 'tenant', tenant_id: principal.tenant_id });
  }

  @Get(':id')
  async get(@Req() req: Request, @Param('id') id: string) {
    const principal = await this.auth.resolve(req);
    const rotationId = parseParam(KeyRotationId, id, 'id');
    return this.bus.request(vaultKeys.getRotation, {
      id: rotationId,
      ...(principal.kind === 'tenant' ? { tenant_id: principal.tenant_id } : {}),
    });
  }
}
