import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { audit, ping } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { DataSource, pingDataSource } from '@vmcp/persistence';
import { VMCP_VERSION } from '@vmcp/telemetry';
import { AuditWriterService } from '../ingest/audit-writer.service.js';
import { LogsService } from './logs.service.js';

@Controller()
export class LogsController {
  constructor(
    private readonly logs: LogsService,
    private readonly ds: DataSource,
    private readonly writer: AuditWriterService,
  ) {}

  @MessagePattern(audit.listToolCallLogs.subject)
  list(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(audit.listToolCallLogs, data, ctx, ({ tenant_id, page_size, page_token, ...filter }) =>
      this.logs.list(tenant_id, filter, page_size, page_token),
    );
  }

  @MessagePattern(audit.getToolCallLog.subject)
  get(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(audit.getToolCallLog, data, ctx, (req) => this.logs.get(req.tenant_id, req.execution_id));
  }

  @MessagePattern(ping.audit.subject)
  ping(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(ping.audit, data, ctx, async () => ({
      service: 'audit' as const,
      ready: this.writer.isStreamReady() && (await pingDataSource(this.ds)),
      version: VMCP_VERSION,
    }));
  }
}
