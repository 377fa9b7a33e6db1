import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { vault } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { metrics } from '@vmcp/telemetry';
import { AuthorizationService } from './authorization.service.js';
import { OAuthClientsService } from './oauth-clients.service.js';

/**
 * OAuth over the bus. Only the edge may publish these subjects (infra/k8s/base/nats/permissions.conf): it creates
 * clients and links for authenticated tenants and relays the provider's callback.
 */
@Controller()
export class OAuthController {
  constructor(
    private readonly clients: OAuthClientsService,
    private readonly authorization: AuthorizationService,
  ) {}

  @MessagePattern(vault.storeOAuthClient.subject)
  storeClient(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(vault.storeOAuthClient, data, ctx, (req) => this.clients.store(req));
  }

  @MessagePattern(vault.destroyOAuthClient.subject)
  destroyClient(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(vault.destroyOAuthClient, data, ctx, async (req) => ({ destroyed: await this.clients.destroy(req.tenant_id, req.connection_id) }));
  }

  @MessagePattern(vault.createAuthorizationLink.subject)
  createLink(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(vault.createAuthorizationLink, data, ctx, (req) => metrics().vault.link(this.authorization.createLink(req)));
  }

  @MessagePattern(vault.openAuthorizationLink.subject)
  openLink(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(vault.openAuthorizationLink, data, ctx, (req) => this.authorization.open(req.state));
  }

  @MessagePattern(vault.completeAuthorization.subject)
  complete(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(vault.completeAuthorization, data, ctx, (req) => metrics().vault.callback(this.authorization.complete(req)));
  }
}
