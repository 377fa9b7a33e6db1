import type { AuthType, ConnectionSettingsInput, ToolDefinition } from '@vmcp/contracts';
import { NATIVE_CONNECTORS } from './native-connectors.js';
import { openapiConnectorInfo } from './openapi/openapi.catalog.js';

/** What the catalog says about a connector, without its implementation. */
export interface ConnectorInfo {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly auth_types: readonly AuthType[];
  /** Whether tools are discovered from the upstream at run time (true for `mcp`). */
  readonly dynamic_tools: boolean;
  /**
   * The provider's OAuth 2.0 endpoints and default scopes, for connectors that offer
   * `oauth2`; a connection may override each. Absent: the connection must give them.
   */
  readonly oauth?: {
    readonly authorize_url: string;
    readonly token_url: string;
    readonly revocation_url?: string;
    readonly scopes: readonly string[];
  };
  /** The tool definitions of a connector with static tools (native ones); absent when discovered (`mcp`). */
  readonly tools?: readonly ToolDefinition[];
  /** Checks connection settings beyond their schema; returns a problem or undefined. */
  readonly validateSettings: (settings: ConnectionSettingsInput, authType: AuthType) => string | undefined;
}

export const mcpConnectorInfo: ConnectorInfo = {
  id: 'mcp',
  name: 'MCP server',
  description: 'Any upstream MCP server over Streamable HTTP, reached at settings.url.',
  // oauth2: the connection names the authorization server's endpoints (settings.oauth).
  auth_types: ['none', 'bearer_token', 'api_key', 'basic', 'custom_headers', 'oauth2'],
  dynamic_tools: true,
  validateSettings(settings) {
    if (!settings.url) return 'settings.url is required for the mcp connector';
    // The executor refuses such a URL: credentials belong in connected accounts, not in settings.
    if (URL.canParse(settings.url)) {
      const url = new URL(settings.url);
      if (url.username || url.password) return 'settings.url must not contain credentials; use the connection\'s auth type';
    }
    return undefined;
  },
};

/** Every connector this build ships: `mcp`, `openapi`, then the native ones (native-connectors.ts). */
export const CONNECTORS: readonly ConnectorInfo[] = [mcpConnectorInfo, openapiConnectorInfo, ...NATIVE_CONNECTORS.map((c) => c.info)];

export function findConnector(id: string): ConnectorInfo | undefined {
  return CONNECTORS.find((c) => c.id === id);
}
