import type { Connector, ConnectorDeps } from './connector.js';
import { McpConnector, type McpConnectorOptions } from './mcp/mcp.connector.js';
import { NATIVE_CONNECTORS } from './native-connectors.js';
import { NativeConnector, type NativeConnectorOptions } from './native/native.connector.js';
import { OpenApiConnector, type OpenApiConnectorOptions } from './openapi/openapi.connector.js';

export interface ConnectorsOptions {
  readonly mcp?: McpConnectorOptions;
  /** Applies to every native connector. */
  readonly native?: NativeConnectorOptions;
  /** The openapi connector; its HTTP limits default to the native ones'. */
  readonly openapi?: OpenApiConnectorOptions;
}

/**
 * Every connector implementation this build ships, by catalog id: `mcp`, `openapi`, and
 * one NativeConnector per definition in NATIVE_CONNECTORS.
 */
export function createConnectors(deps: ConnectorDeps, options: ConnectorsOptions = {}): ReadonlyMap<string, Connector> {
  const connectors = new Map<string, Connector>([['mcp', new McpConnector(deps, options.mcp)]]);
  const { maxResponseBytes, retry } = options.native ?? {};
  connectors.set('openapi', new OpenApiConnector(deps, { ...(maxResponseBytes ? { maxResponseBytes } : {}), ...(retry ? { retry } : {}), ...options.openapi }));
  for (const definition of NATIVE_CONNECTORS) connectors.set(definition.id, new NativeConnector(definition, deps, options.native));
  return connectors;
}
