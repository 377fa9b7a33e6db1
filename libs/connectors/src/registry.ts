import type { Connector, ConnectorDeps } from './connector.js';
import { McpConnector, type McpConnectorOptions } from './mcp/mcp.connector.js';

export interface ConnectorsOptions {
  readonly mcp?: McpConnectorOptions;
}

/**
 * Every connector implementation this build ships, by catalog id. Native connectors
 * (Gmail, Slack, …) are added here next to `mcp`, with their catalog entry.
 */
export function createConnectors(deps: ConnectorDeps, options: ConnectorsOptions = {}): ReadonlyMap<string, Connector> {
  return new Map<string, Connector>([['mcp', new McpConnector(deps, options.mcp)]]);
}
