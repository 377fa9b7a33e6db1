export { Bus, describeZodError, natsHeaderGetter, serviceInbox } from './bus.js';
export { PolicyKeySet } from './policy-keys.js';
export type { PolicyKeys } from './policy-keys.js';
export type { BusOptions, RequestOptions } from './bus.js';
export { VmcpNatsServer, serveRpc } from './nats-server.strategy.js';
export { ensureAuditStream, publishAuditEvent } from './audit-stream.js';
export { verifyAuditChain } from './audit-chain.js';
export { streamExists, consumerInfo } from './streams.js';
export { ensureEventsStream, publishEvent, EVENTS_MAX_AGE_MS } from './events-stream.js';
