import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { policy } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { TokensService } from './tokens.service.js';

@Controller()
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @MessagePattern(policy.mintToken.subject)
  mint(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.mintToken, data, ctx, (req) => this.tokens.mint(req.tenant_id, req.config_id, req.identifier, req.expiry_seconds));
  }

  @MessagePattern(policy.revokeToken.subject)
  revoke(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.revokeToken, data, ctx, async (req) => {
      await this.tokens.revoke(req.tenant_id, req.token_id);
      return { token_id: req.token_id, revoked: true as const };
    });
  }

  @MessagePattern(policy.tokenKeys.subject)
  keys(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.tokenKeys, data, ctx, () => this.tokens.keys());
  }
}
