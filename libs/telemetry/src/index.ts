export { startTelemetry, tracer, VMCP_VERSION } from './tracing.js';
export type { Telemetry } from './tracing.js';
export { createLogger, SECRET_KEYS } from './logger.js';
export type { Logger } from './logger.js';
export {
  metrics,
  startMetrics,
  secondsSince,
  scrapeAllowed,
  VmcpMetrics,
  PROMETHEUS_CONTENT_TYPE,
  DEFAULT_MAX_TOOL_LABELS,
} from './metrics.js';
export type { MetricsOptions, ToolCallStatus, ToolCallHop, OAuthRefreshOutcome, AuditConsumerState } from './metrics.js';
export { BoundedLabel, isSafeLabelValue, errorCodeOf, oneOf, OVERFLOW_LABEL } from './metric-labels.js';
