import { Injectable } from '@nestjs/common';
import { audit, policy, type busApi, type RpcRequestParsed } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import { RevocationsService } from '../auth/revocations.service.js';
import { ToolCallService } from '../mcp/tool-call.service.js';
import { AuthorizationLinksService } from '../oauth/authorization-links.service.js';
import { executeReply, toApiTool } from './tool-views.js';

/** An operation's input: the REST route's path parameters and body (or query), parsed. */
type Input<R extends (typeof busApi.BUS_API_OPERATIONS)[number]> = RpcRequestParsed<R>;

/**
 * The tenant operations that both the REST API and the bus API (vmcp.api.v1.*) offer. Each
 * takes the tenant of the authenticated key and the parsed input, and returns the REST reply
 * body, so the two doors run the very same code: policy, vault, audit path and errors.
 */
@Injectable()
export class TenantApiService {
  constructor(
    private readonly bus: Bus,
    private readonly links: AuthorizationLinksService,
    private readonly calls: ToolCallService,
    private readonly revocations: RevocationsService,
  ) {}

  mintToken(tenant_id: string, input: Input<typeof busApi.mintToken>) {
    return this.bus.request(policy.mintToken, { tenant_id, ...input });
  }

  async revokeToken(tenant_id: string, { token_id }: Input<typeof busApi.revokeToken>) {
    const reply = await this.bus.request(policy.revokeToken, { tenant_id, token_id });
    this.revocations.revoke(token_id);
    return reply;
  }

  async scopedTools(tenant_id: string, { config_id, identifier }: Input<typeof busApi.scopedTools>) {
    const { tools, unavailable } = await this.bus.request(policy.scopedTools, { tenant_id, config_id, identifier });
    return { tools: tools.map(toApiTool), unavailable };
  }

  /**
   * The same call as an MCP tools/call (policy, vault, audit with source `api`), answered as
   * plain JSON. `signal`: the caller went away (REST's closed response); the bus API has none,
   * so a call whose caller stopped waiting runs to its own deadline.
   */
  async executeTool(tenant_id: string, body: Input<typeof busApi.executeTool>, signal?: AbortSignal) {
    const { identifier, config_id, connection_name = '' } = body;
    const { executionId, result } = await this.calls.call({
      // The body schema lets exactly one of config_id and connection_name through.
      principal: config_id ? { tenant_id, config_id, identifier } : { tenant_id, connection_name, identifier },
      toolName: body.tool_name,
      arguments: body.params,
      source: 'api',
      agentRunId: body.agent_run_id ?? null,
      ...(signal ? { signal } : {}),
    });
    return executeReply(executionId, result);
  }

  listAccounts(tenant_id: string, query: Input<typeof busApi.listAccounts>) {
    return this.bus.request(policy.listAccounts, { tenant_id, ...query });
  }

  getAccount(tenant_id: string, { id }: Input<typeof busApi.getAccount>) {
    return this.bus.request(policy.getAccount, { tenant_id, account_id: id });
  }

  /** A short-lived link that takes the user through the provider's consent (OAuth connections). */
  authorizationLink(tenant_id: string, body: Input<typeof busApi.authorizationLink>) {
    return this.links.create(tenant_id, body.connection_name, body.identifier, body.redirect_url);
  }

  async configAccounts(tenant_id: string, { config_id, identifier, include_auth_link, redirect_url }: Input<typeof busApi.configAccounts>) {
    const { connected_accounts } = await this.bus.request(policy.configAccounts, { tenant_id, config_id, identifier });
    if (!include_auth_link) return { connected_accounts };
    // A fresh link for every OAuth connection the user still has to authorize, so the
    // tenant's app can send them through before minting a token.
    return {
      connected_accounts: await Promise.all(
        connected_accounts.map(async (a) => {
          if (a.auth_type !== 'oauth2' || a.connected_account_status === 'ACTIVE') return a;
          const link = await this.links.create(tenant_id, a.connection_name, identifier, redirect_url);
          return {
            ...a,
            connected_account_id: link.connected_account_id,
            connected_account_status: a.connected_account_status === 'NOT_CONNECTED' ? ('PENDING_AUTH' as const) : a.connected_account_status,
            authentication_link: link.link,
            authentication_link_expires_at: link.expires_at,
          };
        }),
      ),
    };
  }

  listLogs(tenant_id: string, query: Input<typeof busApi.listLogs>) {
    return this.bus.request(audit.listToolCallLogs, { tenant_id, ...query });
  }

  getLog(tenant_id: string, { execution_id }: Input<typeof busApi.getLog>) {
    return this.bus.request(audit.getToolCallLog, { tenant_id, execution_id });
  }
}
