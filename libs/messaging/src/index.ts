export { Bus, describeZodError, natsHeaderGetter, serviceInbox } from './bus.js';
export { PolicyKeySet } from './policy-keys.js';
export type { PolicyKeys } from './policy-keys.js';
export type { BusOptions, RequestOptions } from './bus.js';
export { VmcpNatsServer, serveRpc } from './nats-server.strategy.js';
export type { VmcpNatsServerOptions } from './nats-server.strategy.js';
export { ensureAuditStream, publishAuditEvent } from './audit-stream.js';
export { verifyAuditChain } from './audit-chain.js';
export { streamExists, consumerInfo, ensureBucket } from './streams.js';
export { ensureEventsStream, publishEvent, EVENTS_MAX_AGE_MS } from './events-stream.js';
export { InFlight } from './in-flight.js';
export {
  EVENT_INTEREST_REMARK_MS,
  EVENT_INTEREST_WRITERS,
  EventInterestWriter,
  markToolCallInterest,
  markWriterReady,
  openEventInterest,
  takesToolCallEvents,
  ToolCallInterest,
} from './event-interest.js';
export type { EventInterestWriterName } from './event-interest.js';
export { KvMirror } from './kv-mirror.js';
export type { KvMirrorHandlers, KvMirrorTiming } from './kv-mirror.js';
