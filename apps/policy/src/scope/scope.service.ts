import { Inject, Injectable } from '@nestjs/common';
import { isVmcpError, type CallContext, type ConfigClientRequests, type Decision, type ScopedTool, type SessionPrincipal, type UnavailableConnection } from '@vmcp/contracts';
import { ArgumentValidator } from '@vmcp/connectors';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import { AccountsService } from '../accounts/accounts.service.js';
import { toTarget } from '../connections/connections.service.js';
import { ConnectionsService } from '../connections/connections.service.js';
import { clientRequestsOf, ConfigsService } from '../configs/configs.service.js';
import type { AccountEntity, ConnectionEntity } from '../entities/policy.entities.js';
import { TokensService } from '../tokens/tokens.service.js';
import { CredentialGrantsService } from '../grants/credential-grants.service.js';
import { candidatesFor, deadlineOf, exposedTools, toolNotFound, type ResolvedMapping } from './scope.rules.js';
import { ToolCatalogService } from './tool-catalog.service.js';

type Loaded =
  | { ok: false; reason: 'TOKEN_REVOKED' | 'CONFIG_NOT_FOUND'; message: string; config_id: string }
  | { ok: true; config_id: string; capture_payloads: boolean; client_requests: ConfigClientRequests; mappings: ResolvedMapping<ConnectionEntity>[] };

/**
 * What a principal may see and call. tools/list and tools/call share `load` and the
 * mapping rules, so a listed tool is never refused for scope and vice versa.
 */
@Injectable()
export class ScopeService {
  constructor(
    private readonly configs: ConfigsService,
    private readonly connections: ConnectionsService,
    private readonly accounts: AccountsService,
    private readonly tokens: TokensService,
    private readonly catalog: ToolCatalogService,
    private readonly validator: ArgumentValidator,
    private readonly grants: CredentialGrantsService,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  private async load(p: SessionPrincipal): Promise<Loaded> {
    if (p.token_id && !(await this.tokens.isUsable(p.tenant_id, p.token_id, p.config_id, p.identifier))) {
      return { ok: false, reason: 'TOKEN_REVOKED', message: 'session token revoked or unknown', config_id: p.config_id };
    }
    const config = await this.configs.entity(p.tenant_id, p.config_id).catch((err: unknown) => {
      if (isVmcpError(err) && err.code === 'NOT_FOUND') return undefined;
      throw err;
    });
    if (!config) return { ok: false, reason: 'CONFIG_NOT_FOUND', message: 'MCP config not found', config_id: p.config_id };
    const connections = await this.connections.byIds(p.tenant_id, config.mappings.map((m) => m.connection_id));
    const mappings = config.mappings.flatMap((m) => {
      const connection = connections.get(m.connection_id);
      return connection ? [{ ...m, connection }] : [];
    });
    return { ok: true, config_id: config.id, capture_payloads: config.capture_payloads, client_requests: clientRequestsOf(config), mappings };
  }

  /**
   * The principal's tools, in config order. A connection whose discovery fails is left out
   * of this answer and named in `unavailable`, so the caller neither mistakes the list for
   * complete nor keeps it.
   */
  async scopedTools(p: SessionPrincipal): Promise<{ tools: ScopedTool[]; unavailable: UnavailableConnection[] }> {
    const loaded = await this.load(p);
    if (!loaded.ok) return { tools: [], unavailable: [] };
    const unavailable: UnavailableConnection[] = [];
    // Discovery runs in parallel; exposure is decided in config order.
    const catalogs = await Promise.all(
      loaded.mappings.map(async (m) => {
        const account = await this.accounts.usable(p.tenant_id, m.connection, p.identifier);
        if (!account) return [];
        try {
          return await this.catalog.tools(p.tenant_id, toTarget(m.connection), account.id);
        } catch (err) {
          const { code, message } = isVmcpError(err) ? err : { code: 'INTERNAL' as const, message: 'tool discovery failed' };
          this.logger.warn({ connection_id: m.connection.id, code, err: (err as Error).message.slice(0, 300) }, 'tool discovery failed; connection left out of this list');
          unavailable.push({ connection_name: m.connection.name, code, message });
          return [];
        }
      }),
    );
    const taken = new Set<string>();
    const tools = loaded.mappings.flatMap((m, i) =>
      exposedTools(m, catalogs[i] ?? [], taken).map((t) => ({
        name: t.name,
        connection_name: m.connection.name,
        connector: m.connection.connector,
        definition: t.definition,
      })),
    );
    return { tools, unavailable };
  }

  async decide(p: SessionPrincipal, toolName: string, args: Record<string, unknown>): Promise<Decision> {
    const loaded = await this.load(p);
    const base: CallContext = { config_id: p.config_id, connection_name: null, connector: null, connected_account_id: null };
    if (!loaded.ok) return { decision: 'deny', context: base, reason: loaded.reason, message: loaded.message };
    // The config's audit option travels with every decision, allow or deny, to the edge that
    // records the call; its client requests to the edge that relays the upstream's questions.
    const context: CallContext = { ...base, capture_payloads: loaded.capture_payloads, client_requests: loaded.client_requests };

    let inactive: CallContext | undefined;
    // Only mappings that could expose this name matter, in config order: the first one
    // whose catalog has the tool serves it, exactly as tools/list exposes it.
    for (const { mapping: m, upstreamName } of candidatesFor(loaded.mappings, toolName)) {
      const account = await this.accounts.usable(p.tenant_id, m.connection, p.identifier);
      const here: CallContext = { ...context, connection_name: m.connection.name, connector: m.connection.connector, connected_account_id: account?.id ?? null };
      if (!account) {
        inactive ??= here;
        continue;
      }
      const decision = await this.decideOn(p.tenant_id, m.connection, account, here, toolName, upstreamName, args, deadlineOf(m.connection.settings, m, upstreamName));
      if (decision) return decision;
    }
    if (inactive) {
      return { decision: 'deny', context: inactive, reason: 'ACCOUNT_NOT_ACTIVE', message: `no active connected account on connection "${inactive.connection_name}"` };
    }
    return { decision: 'deny', context, ...toolNotFound(toolName) };
  }

  /**
   * A tenant backend's call by connection: any tool of that connection's catalog under
   * the identifier's account, checked the same way (account, catalog, arguments, grant).
   * An unknown connection is NOT_FOUND, which the edge records as a refused call.
   */
  async decideByConnection(tenantId: string, connectionName: string, identifier: string, toolName: string, args: Record<string, unknown>): Promise<Decision> {
    const connection = await this.connections.byName(tenantId, connectionName);
    const account = await this.accounts.usable(tenantId, connection, identifier);
    const context: CallContext = {
      config_id: null,
      connection_name: connection.name,
      connector: connection.connector,
      connected_account_id: account?.id ?? null,
      capture_payloads: false,
    };
    if (!account) {
      return { decision: 'deny', context, reason: 'ACCOUNT_NOT_ACTIVE', message: `no active connected account on connection "${connection.name}"` };
    }
    const deadline = deadlineOf(connection.settings, undefined, toolName);
    return (await this.decideOn(tenantId, connection, account, context, toolName, toolName, args, deadline)) ?? { decision: 'deny', context, ...toolNotFound(toolName) };
  }

  /** Allow (with a grant) or deny for invalid arguments when the connection's catalog has the tool; undefined when it has not. */
  private async decideOn(
    tenantId: string,
    connection: ConnectionEntity,
    account: AccountEntity,
    context: CallContext,
    toolName: string,
    upstreamName: string,
    args: Record<string, unknown>,
    timeoutMs: number | undefined,
  ): Promise<Decision | undefined> {
    const catalog = await this.catalog.tools(tenantId, toTarget(connection), account.id);
    const definition = catalog.find((t) => t.name === upstreamName);
    if (!definition) return undefined;
    const problem = this.validator.check(definition.inputSchema, args);
    if (problem) return { decision: 'deny', context, reason: 'INVALID_ARGUMENT', message: `invalid arguments for ${toolName}: ${problem}` };
    return {
      decision: 'allow',
      context,
      connection: toTarget(connection),
      connected_account_id: account.id,
      upstream_tool_name: upstreamName,
      grant: await this.grants.sign(tenantId, account.id, 'call'),
      input_schema: definition.inputSchema,
      ...(timeoutMs ? { timeout_ms: timeoutMs } : {}),
    };
  }
}
