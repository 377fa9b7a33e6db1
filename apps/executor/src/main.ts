import 'reflect-metadata';
import { runBusService } from '@vmcp/runtime';
import { ExecutorModule } from './executor.module.js';

void runBusService({ service: 'executor', module: (core) => ExecutorModule.forRoot(core) });
