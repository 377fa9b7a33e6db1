import { Module, type DynamicModule } from '@nestjs/common';
import { DataSource, openDataSource } from '@vmcp/persistence';
import { coreModule, type Core } from '@vmcp/runtime';
import { AuditWriterService } from './ingest/audit-writer.service.js';
import { LogsController } from './logs/logs.controller.js';
import { LogsService } from './logs/logs.service.js';
import { ToolCallLogEntity } from './logs/tool-call-log.entity.js';
import { AuditInit1764000000000 } from './migrations/1764000000000-audit-init.js';

export const AUDIT_ENTITIES = [ToolCallLogEntity];
export const AUDIT_MIGRATIONS = [AuditInit1764000000000];

@Module({})
export class AuditModule {
  static async forRoot(core: Core): Promise<DynamicModule> {
    const ds = await openDataSource(core.config, { entities: AUDIT_ENTITIES, migrations: AUDIT_MIGRATIONS });
    return {
      module: AuditModule,
      imports: [coreModule(core)],
      controllers: [LogsController],
      providers: [{ provide: DataSource, useValue: ds }, LogsService, AuditWriterService],
    };
  }
}
