export { CONNECTORS, findConnector, mcpConnectorInfo } from './catalog.js';
export type { ConnectorInfo } from './catalog.js';
