import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { ping, policy } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { DataSource, pingDataSource } from '@vmcp/persistence';
import { VMCP_VERSION } from '@vmcp/telemetry';
import { ScopeService } from './scope.service.js';

@Controller()
export class ScopeController {
  constructor(
    private readonly scope: ScopeService,
    private readonly ds: DataSource,
  ) {}

  @MessagePattern(policy.scopedTools.subject)
  scoped(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.scopedTools, data, ctx, (req) => this.scope.scopedTools(req));
  }

  @MessagePattern(policy.decide.subject)
  decide(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.decide, data, ctx, ({ tool_name, arguments: args, ...principal }) => this.scope.decide(principal, tool_name, args));
  }

  @MessagePattern(policy.decideByConnection.subject)
  decideByConnection(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.decideByConnection, data, ctx, ({ tenant_id, connection_name, identifier, tool_name, arguments: args }) =>
      this.scope.decideByConnection(tenant_id, connection_name, identifier, tool_name, args),
    );
  }

  @MessagePattern(ping.policy.subject)
  ping(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(ping.policy, data, ctx, async () => ({ service: 'policy' as const, ready: await pingDataSource(this.ds), version: VMCP_VERSION }));
  }
}
