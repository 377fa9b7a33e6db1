export { CONNECTORS, findConnector, mcpConnectorInfo } from './catalog.js';
export type { ConnectorInfo } from './catalog.js';
export { buildAuthHeaders, DEFAULT_API_KEY_HEADER } from './auth-headers.js';
export type { CacheScope, CallToolOptions, Connector, ConnectorContext, ConnectorDeps, CredentialRequest, ListToolsOptions, ResolvedCredential } from './connector.js';
export { createConnectors } from './registry.js';
export type { ConnectorsOptions } from './registry.js';
export { McpConnector } from './mcp/mcp.connector.js';
export type { McpConnectorOptions } from './mcp/mcp.connector.js';
