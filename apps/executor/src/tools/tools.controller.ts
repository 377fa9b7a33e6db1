import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { executor, ping } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { VMCP_VERSION } from '@vmcp/telemetry';
import { UpstreamsService } from './upstreams.service.js';

@Controller()
export class ToolsController {
  constructor(private readonly upstreams: UpstreamsService) {}

  @MessagePattern(executor.listConnectionTools.subject)
  list(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(executor.listConnectionTools, data, ctx, async (req) => ({
      tools: await this.upstreams.listTools(req.tenant_id, req.connection, req.account_id),
    }));
  }

  @MessagePattern(executor.callTool.subject)
  call(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(executor.callTool, data, ctx, async (req) => ({
      result: await this.upstreams.callTool(req.tenant_id, req.execution_id, req.connection, req.account_id, req.tool_name, req.arguments, req.timeout_ms),
    }));
  }

  @MessagePattern(ping.executor.subject)
  ping(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(ping.executor, data, ctx, () => ({ service: 'executor' as const, ready: true, version: VMCP_VERSION }));
  }
}
