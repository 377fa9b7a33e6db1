import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { vault } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { DestroyCredentialHandler } from './destroy-credential.handler.js';

@Controller()
export class DestroyCredentialController {
  constructor(private readonly handler: DestroyCredentialHandler) {}

  @MessagePattern(vault.destroyCredential.subject)
  destroy(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(vault.destroyCredential, data, ctx, (req) => this.handler.execute(req));
  }
}
