import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { policy } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { TenantsService } from './tenants.service.js';

@Controller()
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @MessagePattern(policy.createTenant.subject)
  create(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.createTenant, data, ctx, (req) => this.tenants.create(req.name));
  }

  @MessagePattern(policy.listTenants.subject)
  list(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.listTenants, data, ctx, (req) => this.tenants.list(req.page_size, req.page_token));
  }

  @MessagePattern(policy.createApiKey.subject)
  createKey(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.createApiKey, data, ctx, (req) => this.tenants.createKey(req.tenant_id));
  }

  @MessagePattern(policy.revokeApiKey.subject)
  revokeKey(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.revokeApiKey, data, ctx, async (req) => {
      await this.tenants.revokeKey(req.tenant_id, req.key_id);
      return { key_id: req.key_id, revoked: true as const };
    });
  }

  @MessagePattern(policy.authenticateApiKey.subject)
  authenticate(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.authenticateApiKey, data, ctx, (req) => this.tenants.authenticate(req.api_key));
  }
}
