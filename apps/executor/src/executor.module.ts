import { Module, type DynamicModule } from '@nestjs/common';
import type { ConnectorsOptions } from '@vmcp/connectors';
import { Bus } from '@vmcp/messaging';
import { coreModule, type Core } from '@vmcp/runtime';
import { CallToolController } from './call-tool/call-tool.controller.js';
import { CallToolHandler } from './call-tool/call-tool.handler.js';
import { ConnectorRegistry } from './connectors/connector-registry.service.js';
import { WebhookDeliveryService } from './deliver-webhooks/webhook-delivery.service.js';
import { EvictOnChangeListener } from './evict-on-change/evict-on-change.listener.js';
import { ListToolsController } from './list-tools/list-tools.controller.js';
import { ListToolsHandler } from './list-tools/list-tools.handler.js';
import { PingController } from './ping/ping.controller.js';

@Module({})
export class ExecutorModule {
  static forRoot(core: Core, connectors: ConnectorsOptions = {}): DynamicModule {
    return {
      module: ExecutorModule,
      imports: [coreModule(core)],
      controllers: [ListToolsController, CallToolController, PingController],
      providers: [
        { provide: ConnectorRegistry, useFactory: (bus: Bus) => new ConnectorRegistry(bus, connectors), inject: [Bus] },
        ListToolsHandler,
        CallToolHandler,
        EvictOnChangeListener,
        WebhookDeliveryService,
      ],
    };
  }
}
