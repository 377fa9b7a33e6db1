import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { audit } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { RetentionService } from './retention.service.js';

@Controller()
export class SettingsController {
  constructor(private readonly retention: RetentionService) {}

  @MessagePattern(audit.getSettings.subject)
  get(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(audit.getSettings, data, ctx, (req) => this.retention.getSettings(req.tenant_id));
  }

  @MessagePattern(audit.putSettings.subject)
  put(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(audit.putSettings, data, ctx, (req) => this.retention.putSettings(req.tenant_id, req.retention_days));
  }
}
