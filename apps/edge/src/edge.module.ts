import { ArgumentValidator } from '@vmcp/connectors';
import { Module, RequestMethod, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { coreModule, type Core } from '@vmcp/runtime';
import { AccountsController } from './api/accounts.controller.js';
import { AuditController } from './api/audit.controller.js';
import { ConfigsController } from './api/configs.controller.js';
import { ConnectionsController } from './api/connections.controller.js';
import { HealthController } from './api/health.controller.js';
import { KeyRotationsController } from './api/key-rotations.controller.js';
import { TenantsController } from './api/tenants.controller.js';
import { ToolsController } from './api/tools.controller.js';
import { WebhooksController } from './api/webhooks.controller.js';
import { TenantApiService } from './api/tenant-api.service.js';
import { ApiPrincipalResolver } from './auth/api-principal.js';
import { RevocationsService } from './auth/revocations.service.js';
import { SessionTokensService } from './auth/session-tokens.service.js';
import { BusApiResponder } from './bus-api/bus-api.responder.js';
import { EventFeedService } from './bus-api/event-feed.service.js';
import { DnsRebindingMiddleware } from './mcp/dns-rebinding.middleware.js';
import { McpController } from './mcp/mcp.controller.js';
import { InFlightCalls } from './mcp/in-flight-calls.service.js';
import { ClientRequests } from './mcp/client-requests.service.js';
import { McpSessionsService } from './mcp/mcp-sessions.service.js';
import { VirtualServerFactory } from './mcp/virtual-server.factory.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { AuthorizationLinksService } from './oauth/authorization-links.service.js';
import { OAuthRedirectsController } from './oauth/oauth-redirects.controller.js';
import { DecisionCache } from './mcp/decision-cache.js';
import { ListChangedStreams } from './mcp/list-changed-streams.service.js';
import { ListenSubscriptions } from './mcp/listen-subscriptions.service.js';
import { ScopedToolsService } from './mcp/scoped-tools.service.js';
import { ToolCallService } from './mcp/tool-call.service.js';

@Module({})
export class EdgeModule implements NestModule {
  /** Host and Origin are checked before anything else the MCP endpoint does. */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(DnsRebindingMiddleware).forRoutes({ path: 'mcp/*path', method: RequestMethod.ALL });
  }

  static forRoot(core: Core): DynamicModule {
    return {
      module: EdgeModule,
      imports: [coreModule(core)],
      controllers: [
        HealthController,
        MetricsController,
        TenantsController,
        ConnectionsController,
        AccountsController,
        ConfigsController,
        ToolsController,
        AuditController,
        KeyRotationsController,
        WebhooksController,
        McpController,
        OAuthRedirectsController,
      ],
      providers: [
        ApiPrincipalResolver,
        TenantApiService,
        EventFeedService,
        BusApiResponder,
        RevocationsService,
        SessionTokensService,
        ToolCallService,
        AuthorizationLinksService,
        DecisionCache,
        ListChangedStreams,
        ListenSubscriptions,
        ScopedToolsService,
        ArgumentValidator,
        McpSessionsService,
        InFlightCalls,
        ClientRequests,
        VirtualServerFactory,
      ],
    };
  }
}
