import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { vault } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { StoreCredentialHandler } from './store-credential.handler.js';

@Controller()
export class StoreCredentialController {
  constructor(private readonly handler: StoreCredentialHandler) {}

  /** Edge posts credentials here once; the reply says only that it is stored, never what. */
  @MessagePattern(vault.storeCredential.subject)
  store(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(vault.storeCredential, data, ctx, (req) => this.handler.execute(req));
  }
}
