import { paginate } from '../pagination.js';
import type { Requester } from '../transport.js';
import type {
  ConfigAccountsInput,
  ConfigAccountState,
  DeletedMcpConfig,
  McpConfig,
  McpConfigInput,
  McpConfigPage,
  MintTokenInput,
  PageRequest,
  SessionToken,
} from '../types.js';

/** MCP configs: virtual MCP servers, each exposing chosen tools of chosen connections at its `mcp_server_url`. */
export class Configs {
  constructor(private readonly transport: Requester) {}

  /** `tools: ['*']` is the explicit opt-in to every tool of a connection; nothing is exposed by default. */
  create(input: McpConfigInput): Promise<{ config: McpConfig }> {
    return this.transport.json('configs.create', { body: input });
  }

  list(page: PageRequest = {}): Promise<McpConfigPage> {
    return this.transport.json('configs.list', { query: page });
  }

  /** Every config, page after page as the loop gets there. */
  iterate(page: Omit<PageRequest, 'page_token'> = {}): AsyncIterable<McpConfig> {
    return paginate((page_token) => this.list({ ...page, page_token }), (p) => p.configs);
  }

  get(configId: string): Promise<{ config: McpConfig }> {
    return this.transport.json('configs.get', { params: { config_id: configId } });
  }

  /** Replaces the whole config; connected agents see the change, the URL stays. */
  replace(configId: string, input: McpConfigInput): Promise<{ config: McpConfig }> {
    return this.transport.json('configs.replace', { params: { config_id: configId }, body: input });
  }

  /** Deletes the config; its URL stops working at once. */
  delete(configId: string): Promise<DeletedMcpConfig> {
    return this.transport.json('configs.delete', { params: { config_id: configId } });
  }

  /** A session token for one identifier (60 s to 24 h, default 1 h): give `token` and `mcp_server_url` to the agent. */
  mintToken(configId: string, input: MintTokenInput): Promise<SessionToken> {
    return this.transport.json('configs.mintToken', { params: { config_id: configId }, body: input });
  }

  /** The identifier's account state on each connection of the config, with authorization links on request. */
  connectedAccounts(configId: string, input: ConfigAccountsInput): Promise<{ connected_accounts: ConfigAccountState[] }> {
    return this.transport.json('configs.connectedAccounts', { params: { config_id: configId }, body: input });
  }
}
