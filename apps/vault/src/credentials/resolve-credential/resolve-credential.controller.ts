import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { vault } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { ResolveCredentialHandler } from './resolve-credential.handler.js';

@Controller()
export class ResolveCredentialController {
  constructor(private readonly handler: ResolveCredentialHandler) {}

  /**
   * The plaintext goes back only on the requester's own reply inbox. Who may request is
   * enforced by the bus, not here: in infra/k8s/base/nats/permissions.conf only the executor's
   * NATS user may publish to this subject (DESIGN.md invariants 1 and 7).
   */
  @MessagePattern(vault.resolveCredential.subject)
  resolve(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(vault.resolveCredential, data, ctx, (req) => this.handler.execute(req));
  }
}
