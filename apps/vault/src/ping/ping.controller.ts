import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { ping } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { PingHandler } from './ping.handler.js';

@Controller()
export class PingController {
  constructor(private readonly handler: PingHandler) {}

  @MessagePattern(ping.vault.subject)
  ping(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(ping.vault, data, ctx, () => this.handler.execute());
  }
}
