export { CONNECTORS, findConnector, mcpConnectorInfo } from './catalog.js';
export type { ConnectorInfo } from './catalog.js';
export { buildAuthHeaders, DEFAULT_API_KEY_HEADER } from './auth-headers.js';
export { McpUpstreamPool } from './mcp/mcp-upstream-pool.js';
export type { PoolOptions } from './mcp/mcp-upstream-pool.js';
