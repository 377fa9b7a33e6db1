import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { policy } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { ConnectionsService, toConnection } from './connections.service.js';

@Controller()
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  @MessagePattern(policy.createConnection.subject)
  create(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.createConnection, data, ctx, async ({ tenant_id, ...input }) => ({
      connection: await this.connections.create(tenant_id, input),
    }));
  }

  @MessagePattern(policy.listConnections.subject)
  list(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.listConnections, data, ctx, (req) => this.connections.list(req.tenant_id, req.page_size, req.page_token));
  }

  @MessagePattern(policy.getConnection.subject)
  get(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.getConnection, data, ctx, async (req) => ({
      connection: toConnection(await this.connections.byName(req.tenant_id, req.name)),
    }));
  }

  @MessagePattern(policy.updateConnection.subject)
  update(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.updateConnection, data, ctx, async ({ tenant_id, name, ...patch }) => ({
      connection: await this.connections.update(tenant_id, name, patch),
    }));
  }

  @MessagePattern(policy.deleteConnection.subject)
  remove(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.deleteConnection, data, ctx, async (req) => ({
      name: req.name,
      deleted: true as const,
      ...(await this.connections.remove(req.tenant_id, req.name)),
    }));
  }
}
