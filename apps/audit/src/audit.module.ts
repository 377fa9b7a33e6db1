import { Module, type DynamicModule } from '@nestjs/common';
import { DataSource, openDataSource } from '@vmcp/persistence';
import { coreModule, type Core } from '@vmcp/runtime';
import { AuditChainEntity, AuditRecordEntity } from './chain/chain.entities.js';
import { AuditWriterService } from './ingest/audit-writer.service.js';
import { LogsController } from './logs/logs.controller.js';
import { AuditConsumerCollector } from './metrics/audit-consumer.collector.js';
import { LogsService } from './logs/logs.service.js';
import { ToolCallLogEntity } from './logs/tool-call-log.entity.js';
import { AuditInit1764000000000 } from './migrations/1764000000000-audit-init.js';
import { AuditChain1764400000000 } from './migrations/1764400000000-audit-chain.js';
import { AuditSettingsEntity } from './retention/audit-settings.entity.js';
import { RetentionService } from './retention/retention.service.js';
import { SettingsController } from './retention/settings.controller.js';
import { ChainController } from './verify/chain.controller.js';
import { ChainVerifierService } from './verify/chain-verifier.service.js';

export const AUDIT_ENTITIES = [ToolCallLogEntity, AuditRecordEntity, AuditChainEntity, AuditSettingsEntity];
export const AUDIT_MIGRATIONS = [AuditInit1764000000000, AuditChain1764400000000];

@Module({})
export class AuditModule {
  static async forRoot(core: Core): Promise<DynamicModule> {
    const ds = await openDataSource(core.config, { entities: AUDIT_ENTITIES, migrations: AUDIT_MIGRATIONS });
    return {
      module: AuditModule,
      imports: [coreModule(core)],
      controllers: [LogsController, ChainController, SettingsController],
      providers: [{ provide: DataSource, useValue: ds }, LogsService, AuditWriterService, ChainVerifierService, RetentionService, AuditConsumerCollector],
    };
  }
}
