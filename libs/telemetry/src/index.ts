export { startTelemetry, tracer, VMCP_VERSION } from './tracing.js';
export type { Telemetry } from './tracing.js';
export { createLogger, SECRET_KEYS } from './logger.js';
export type { Logger } from './logger.js';
