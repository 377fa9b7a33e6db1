import 'reflect-metadata';
import { DataSource, pingDataSource } from '@vmcp/persistence';
import { runBusService } from '@vmcp/runtime';
import { AuditModule } from './audit.module.js';
import { AuditWriterService } from './ingest/audit-writer.service.js';
import { AuditConsumerCollector } from './metrics/audit-consumer.collector.js';

void runBusService({
  service: 'audit',
  module: (core) => AuditModule.forRoot(core),
  beforeListen: (app) => app.get(AuditWriterService).start(),
  readiness: (app) => ({
    database: () => pingDataSource(app.get(DataSource)),
    stream: async () => app.get(AuditWriterService).isStreamReady(),
    // Asked of JetStream each time: the writer's durable consumer is what drains the stream.
    consumer: () => app.get(AuditConsumerCollector).consumerPresent(),
  }),
});
