import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { executor } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { CallToolHandler } from './call-tool.handler.js';

@Controller()
export class CallToolController {
  constructor(private readonly handler: CallToolHandler) {}

  @MessagePattern(executor.callTool.subject)
  call(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(executor.callTool, data, ctx, (req) => this.handler.handle(req));
  }
}
