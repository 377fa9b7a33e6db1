import type { Connector, ConnectorDeps } from './connector.js';
import { McpConnector, type McpConnectorOptions } from './mcp/mcp.connector.js';
import { NATIVE_CONNECTORS } from './native-connectors.js';
import { NativeConnector, type NativeConnectorOptions } from './native/native.connector.js';

export interface ConnectorsOptions {
  readonly mcp?: McpConnectorOptions;
  /** Applies to every native connector. */
  readonly native?: NativeConnectorOptions;
}

/**
 * Every connector implementation this build ships, by catalog id: `mcp`, and one
 * NativeConnector per definition in NATIVE_CONNECTORS.
 */
export function createConnectors(deps: ConnectorDeps, options: ConnectorsOptions = {}): ReadonlyMap<string, Connector> {
  const connectors = new Map<string, Connector>([['mcp', new McpConnector(deps, options.mcp)]]);
  for (const definition of NATIVE_CONNECTORS) connectors.set(definition.id, new NativeConnector(definition, deps, options.native));
  return connectors;
}
