import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { executor } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { ListToolsHandler } from './list-tools.handler.js';

@Controller()
export class ListToolsController {
  constructor(private readonly handler: ListToolsHandler) {}

  @MessagePattern(executor.listConnectionTools.subject)
  list(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(executor.listConnectionTools, data, ctx, (req) => this.handler.handle(req));
  }
}
