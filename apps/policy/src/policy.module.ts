import { Module, type DynamicModule } from '@nestjs/common';
import { ArgumentValidator } from '@vmcp/connectors';
import { DataSource, openDataSource } from '@vmcp/persistence';
import { coreModule, type Core } from '@vmcp/runtime';
import { AccountsController } from './accounts/accounts.controller.js';
import { AccountsService } from './accounts/accounts.service.js';
import { ConfigsController } from './configs/configs.controller.js';
import { ConfigsService } from './configs/configs.service.js';
import { ConnectionsController } from './connections/connections.controller.js';
import { ConnectionsService } from './connections/connections.service.js';
import { POLICY_ENTITIES } from './entities/policy.entities.js';
import { PolicyInit1764000000000 } from './migrations/1764000000000-policy-init.js';
import { ScopeController } from './scope/scope.controller.js';
import { ScopeService } from './scope/scope.service.js';
import { ToolCatalogService } from './scope/tool-catalog.service.js';
import { RevocationsKv } from './shared/revocations.kv.js';
import { TenantsController } from './tenants/tenants.controller.js';
import { TenantsService } from './tenants/tenants.service.js';
import { TokensController } from './tokens/tokens.controller.js';
import { TokensService } from './tokens/tokens.service.js';
import { CredentialGrantsService } from './grants/credential-grants.service.js';
import { AccountExpiredListener } from './accounts/account-expired.listener.js';

import { EventOutbox } from './events/event-outbox.service.js';
import { OutboxEventEntity } from './events/outbox-event.entity.js';
import { PolicyWebhooksEvents1764300000000 } from './migrations/1764300000000-webhooks-events.js';
import { PolicyConfigAudit1764400000000 } from './migrations/1764400000000-config-audit.js';
import { PolicyConfigClientRequests1764500000000 } from './migrations/1764500000000-config-client-requests.js';
import { WebhookEntity } from './webhooks/webhook.entity.js';
import { WebhooksController } from './webhooks/webhooks.controller.js';
import { EventInterestKv } from './webhooks/event-interest.kv.js';
import { WebhooksService } from './webhooks/webhooks.service.js';

export const POLICY_MIGRATIONS = [PolicyInit1764000000000, PolicyWebhooksEvents1764300000000, PolicyConfigAudit1764400000000, PolicyConfigClientRequests1764500000000];

@Module({})
export class PolicyModule {
  static async forRoot(core: Core): Promise<DynamicModule> {
    const ds = await openDataSource(core.config, {
      entities: [...POLICY_ENTITIES, WebhookEntity, OutboxEventEntity],
      migrations: POLICY_MIGRATIONS,
    });
    return {
      module: PolicyModule,
      imports: [coreModule(core)],
      controllers: [TenantsController, ConnectionsController, AccountsController, ConfigsController, TokensController, ScopeController, WebhooksController],
      providers: [
        { provide: DataSource, useValue: ds },
        TenantsService,
        ConnectionsService,
        AccountsService,
        ConfigsService,
        TokensService,
        CredentialGrantsService,
        AccountExpiredListener,
        RevocationsKv,
        ToolCatalogService,
        ArgumentValidator,
        ScopeService,
        EventOutbox,
        WebhooksService,
        EventInterestKv,
      ],
    };
  }
}
