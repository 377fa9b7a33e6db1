import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { vaultKeys } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { StartRotationHandler } from './start-rotation.handler.js';

/**
 * Who may start a rotation is enforced by the bus: the edge (admin key, or a tenant key for
 * its own tenant) and the operators' command (`npm run vault`), nobody else.
 */
@Controller()
export class StartRotationController {
  constructor(private readonly handler: StartRotationHandler) {}

  @MessagePattern(vaultKeys.startMasterRotation.subject)
  master(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(vaultKeys.startMasterRotation, data, ctx, () => this.handler.master());
  }

  @MessagePattern(vaultKeys.startTenantRotation.subject)
  tenant(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(vaultKeys.startTenantRotation, data, ctx, (req) => this.handler.tenant(req));
  }
}
