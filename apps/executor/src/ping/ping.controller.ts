import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { ping } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { pong } from './ping.handler.js';

@Controller()
export class PingController {
  @MessagePattern(ping.executor.subject)
  ping(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(ping.executor, data, ctx, pong);
  }
}
