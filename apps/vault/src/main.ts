import 'reflect-metadata';
import { DataSource, pingDataSource } from '@vmcp/persistence';
import { runBusService } from '@vmcp/runtime';
import { VaultModule } from './vault.module.js';

void runBusService({
  service: 'vault',
  module: (core) => VaultModule.forRoot(core),
  readiness: (app) => ({ database: () => pingDataSource(app.get(DataSource)) }),
});
