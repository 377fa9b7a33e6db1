import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { vaultKeys } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { ReadRotationsHandler } from './read-rotations.handler.js';

@Controller()
export class ReadRotationsController {
  constructor(private readonly handler: ReadRotationsHandler) {}

  @MessagePattern(vaultKeys.getRotation.subject)
  get(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(vaultKeys.getRotation, data, ctx, (req) => this.handler.get(req));
  }

  @MessagePattern(vaultKeys.listRotations.subject)
  list(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(vaultKeys.listRotations, data, ctx, (req) => this.handler.list(req));
  }
}
