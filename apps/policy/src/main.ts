import 'reflect-metadata';
import { DataSource, pingDataSource } from '@vmcp/persistence';
import { runBusService } from '@vmcp/runtime';
import { PolicyModule } from './policy.module.js';

void runBusService({
  service: 'policy',
  module: (core) => PolicyModule.forRoot(core),
  readiness: (app) => ({ database: () => pingDataSource(app.get(DataSource)) }),
});
