export { startCore, coreModule, runBusService, createBusServiceApp, VMCP_LOGGER } from './bootstrap.js';
export type { Core, BusServiceOptions } from './bootstrap.js';
export { serveHealth, runChecks, portOf } from './health-server.js';
export type { ReadinessChecks, ReadinessResult, MetricsEndpoint } from './health-server.js';
export { PinoNestLogger } from './nest-logger.js';
