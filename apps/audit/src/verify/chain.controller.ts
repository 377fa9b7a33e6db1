import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { audit } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { ChainVerifierService } from './chain-verifier.service.js';

@Controller()
export class ChainController {
  constructor(private readonly verifier: ChainVerifierService) {}

  @MessagePattern(audit.verifyChain.subject)
  verify(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(audit.verifyChain, data, ctx, (req) => this.verifier.verify(req));
  }
}
