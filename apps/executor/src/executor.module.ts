import { Module, type DynamicModule } from '@nestjs/common';
import { coreModule, type Core } from '@vmcp/runtime';
import { ToolsController } from './tools/tools.controller.js';
import { UpstreamsService } from './tools/upstreams.service.js';

@Module({})
export class ExecutorModule {
  static forRoot(core: Core): DynamicModule {
    return { module: ExecutorModule, imports: [coreModule(core)], controllers: [ToolsController], providers: [UpstreamsService] };
  }
}
