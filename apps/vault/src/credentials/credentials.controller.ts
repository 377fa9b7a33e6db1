import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { vault } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { CredentialsService } from './credentials.service.js';

@Controller()
export class CredentialsController {
  constructor(private readonly credentials: CredentialsService) {}

  @MessagePattern(vault.storeCredential.subject)
  store(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(vault.storeCredential, data, ctx, async (req) => ({
      stored: true as const,
      key_version: await this.credentials.store(req.tenant_id, req.account_id, req.auth_type, req.secret),
    }));
  }

  /** Only the executor's NATS user may publish here (bus permissions); see infra/nats. */
  @MessagePattern(vault.resolveCredential.subject)
  resolve(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(vault.resolveCredential, data, ctx, (req) => this.credentials.resolve(req.tenant_id, req.account_id));
  }

  @MessagePattern(vault.destroyCredential.subject)
  destroy(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(vault.destroyCredential, data, ctx, async (req) => ({
      destroyed: await this.credentials.destroy(req.tenant_id, req.account_id),
    }));
  }
}
