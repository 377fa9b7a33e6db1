export { freePort, waitFor, uniqueName } from './ports.js';
export { startNatsServer } from './nats-server.js';
export type { NatsServerHandle, NatsServerOptions } from './nats-server.js';
export { databaseEnv, dropTestSchemas, TEST_DATABASE_URL, DATABASE_KINDS } from './databases.js';
export type { DatabaseKind } from './databases.js';
