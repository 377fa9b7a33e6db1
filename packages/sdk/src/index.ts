// The public door of @vmcp/sdk: everything a caller may import, by name.
export { Vmcp } from './client.js';
export type { VmcpOptions, VmcpTenantClient } from './client.js';
// The same tenant operations over NATS, and the event feed (docs/bus-api.md).
export { VmcpNats } from './nats-client.js';
export type { VmcpNatsOptions } from './nats-client.js';
export { BUS_SUBJECTS, API_KEY_HEADER } from './bus.js';
export type { BusMethodName } from './bus.js';
export type { Events, SubscribeOptions } from './resources/events.js';
export { EVENT_TYPES } from './event-types.js';
export type {
  EventType,
  EventEnvelope,
  VmcpEvent,
  EventOfType,
  EventDelivery,
  EventStart,
  ConnectedAccountStatusChanged,
  ToolCallFacts,
  ToolCallStarted,
  ToolCallFinished,
  ToolCallDenied,
  PulledEvent,
  PulledEvents,
  PullEventsInput,
} from './event-types.js';
export { VmcpError, VmcpApiError, VmcpTimeoutError, VmcpConnectionError } from './errors.js';
export { ROUTES } from './routes.js';
export type { Route, RouteName } from './routes.js';
export { SDK_VERSION } from './version.js';
export type {
  ErrorCode,
  PageRequest,
  Tenant,
  CreateTenantInput,
  CreateTenantResult,
  TenantPage,
  CreatedApiKey,
  RevokedApiKey,
  Connector,
  ConnectorsQuery,
  ToolDefinition,
  ToolCatalogQuery,
  ScopedToolsQuery,
  ScopedTools,
  UnavailableConnection,
  AuthType,
  Connection,
  CreateConnectionInput,
  UpdateConnectionInput,
  ConnectionPage,
  DeletedConnection,
  ConnectedAccount,
  UpsertConnectedAccountInput,
  ConnectedAccountFilter,
  ConnectedAccountPage,
  AuthorizationLinkInput,
  AuthorizationLink,
  McpConfig,
  McpConfigInput,
  McpConfigPage,
  DeletedMcpConfig,
  MintTokenInput,
  SessionToken,
  RevokedToken,
  ConfigAccountsInput,
  ConfigAccountState,
  ExecuteToolInput,
  ExecuteToolResult,
  ToolCallLog,
  ToolCallLogFilter,
  ToolCallLogPage,
  AuditVerifyQuery,
  AuditVerification,
  AuditSettings,
  AuditSettingsInput,
  Webhook,
  WebhookInput,
  WebhookWithSecret,
  RotatedWebhookSecret,
  KeyRotation,
  StartKeyRotationInput,
  KeyRotationFilter,
  KeyRotationPage,
  Liveness,
  Readiness,
} from './types.js';
// The raw generated types, for what the readable names above do not cover.
export type { paths, operations } from './generated/openapi.js';
