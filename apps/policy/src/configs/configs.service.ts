import { Inject, Injectable } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { newId, VmcpError, type AuthType, type ConfigClientRequests, type McpConfig, type policy, type RpcRequestParsed } from '@vmcp/contracts';
import { findConnector } from '@vmcp/connectors';
import { DataSource, nowIso } from '@vmcp/persistence';
import { AccountsService } from '../accounts/accounts.service.js';
import { ConnectionsService } from '../connections/connections.service.js';
import { ConfigEntity, type ConnectionEntity, type StoredMapping } from '../entities/policy.entities.js';
import { RevocationsKv } from '../shared/revocations.kv.js';
import { isUniqueViolation, paginate } from '../shared/pagination.js';

/** A config as create and replace take it: the contract's input, parsed (the tenant and config ids aside). */
export type ConfigInputData = Omit<RpcRequestParsed<typeof policy.replaceConfig>, 'tenant_id' | 'config_id'>;

type MappingDeadlines = Pick<ConfigInputData['connection_tool_mappings'][number], 'timeout_ms' | 'tool_timeouts_ms'>;

/** What a config lets an upstream ask the agent, as shown and as policy decides with it. */
export function clientRequestsOf(e: ConfigEntity): ConfigClientRequests {
  return { sampling: e.allow_sampling, elicitation: e.allow_elicitation };
}

/** The columns of what an input names, the rest as `current` (all allowed on create; the stored setting on replace). */
function storedClientRequests(input: ConfigInputData, current: ConfigClientRequests): Pick<ConfigEntity, 'allow_sampling' | 'allow_elicitation'> {
  return { allow_sampling: input.client_requests?.sampling ?? current.sampling, allow_elicitation: input.client_requests?.elicitation ?? current.elicitation };
}

/** A mapping's deadlines as stored and shown (absent when not set). */
function deadlinesOf(m: MappingDeadlines): MappingDeadlines {
  return {
    ...(m.timeout_ms ? { timeout_ms: m.timeout_ms } : {}),
    ...(m.tool_timeouts_ms && Object.keys(m.tool_timeouts_ms).length ? { tool_timeouts_ms: m.tool_timeouts_ms } : {}),
  };
}

/**
 * A mapping may only name tools its connector has. Connectors with static tools (native
 * ones) are checked against the catalog; an `mcp` connection's tools are discovered from
 * its upstream, so any name is taken there.
 */
export function checkToolNames(connector: string, connectionName: string, tools: readonly string[]): void {
  const known = findConnector(connector)?.tools;
  if (!known) return;
  const names = new Set(known.map((t) => t.name));
  const unknown = [...new Set(tools)].filter((t) => t !== '*' && !names.has(t));
  if (unknown.length === 0) return;
  const listed = unknown.slice(0, 5).map((t) => `"${t.slice(0, 64)}"`).join(', ');
  const message = `connection_tool_mappings: connector ${connector} of connection "${connectionName}" has no tool ${listed}; valid tools: ${[...names].join(', ')}`;
  // Error messages cross the bus bounded.
  throw new VmcpError('INVALID_ARGUMENT', message.length > 1900 ? `${message.slice(0, 1899)}…` : message);
}

@Injectable()
export class ConfigsService {
  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly ds: DataSource,
    private readonly connections: ConnectionsService,
    private readonly accounts: AccountsService,
    private readonly revocations: RevocationsKv,
  ) {}

  mcpServerUrl(configId: string): string {
    return `${this.config.publicUrl}/mcp/${configId}`;
  }

  private async toMappings(tenantId: string, input: ConfigInputData): Promise<StoredMapping[]> {
    const seen = new Set<string>();
    const out: StoredMapping[] = [];
    for (const m of input.connection_tool_mappings) {
      if (seen.has(m.connection_name)) {
        throw new VmcpError('INVALID_ARGUMENT', `connection_tool_mappings: connection "${m.connection_name}" appears twice`);
      }
      seen.add(m.connection_name);
      const c = await this.connections.byName(tenantId, m.connection_name);
      checkToolNames(c.connector, m.connection_name, m.tools);
      const unmapped = Object.keys(m.tool_timeouts_ms ?? {}).filter((t) => !m.tools.includes('*') && !m.tools.includes(t));
      if (unmapped.length) {
        throw new VmcpError('INVALID_ARGUMENT', `connection_tool_mappings: tool_timeouts_ms of "${m.connection_name}" names tools it does not map: ${unmapped.slice(0, 5).join(', ')}`);
      }
      out.push({ connection_id: c.id, tools: [...new Set(m.tools)], ...(m.prefix ? { prefix: m.prefix } : {}), ...deadlinesOf(m) });
    }
    return out;
  }

  async toConfig(e: ConfigEntity, known?: Map<string, ConnectionEntity>): Promise<McpConfig> {
    const connections = known ?? (await this.connections.byIds(e.tenant_id, e.mappings.map((m) => m.connection_id)));
    return {
      id: e.id,
      name: e.name,
      description: e.description,
      connection_tool_mappings: e.mappings.flatMap((m) => {
        const c = connections.get(m.connection_id);
        if (!c) return [];
        return [{ connection_name: c.name, connection_id: c.id, connector: c.connector, tools: m.tools, ...(m.prefix ? { prefix: m.prefix } : {}), ...deadlinesOf(m) }];
      }),
      audit: { capture_payloads: e.capture_payloads },
      client_requests: clientRequestsOf(e),
      mcp_server_url: this.mcpServerUrl(e.id),
      created_at: e.created_at,
      updated_at: e.updated_at,
    };
  }

  async create(tenantId: string, input: ConfigInputData): Promise<McpConfig> {
    const now = nowIso();
    const entity: ConfigEntity = {
      id: newId('cfg'),
      tenant_id: tenantId,
      name: input.name,
      description: input.description ?? null,
      mappings: await this.toMappings(tenantId, input),
      capture_payloads: input.audit?.capture_payloads ?? false,
      ...storedClientRequests(input, { sampling: true, elicitation: true }),
      created_at: now,
      updated_at: now,
    };
    try {
      await this.ds.getRepository(ConfigEntity).insert(entity);
    } catch (err) {
      if (isUniqueViolation(err)) throw new VmcpError('ALREADY_EXISTS', `config "${input.name}" already exists`);
      throw err;
    }
    return this.toConfig(entity);
  }

  async entity(tenantId: string, configId: string): Promise<ConfigEntity> {
    const e = await this.ds.getRepository(ConfigEntity).findOneBy({ id: configId, tenant_id: tenantId });
    if (!e) throw new VmcpError('NOT_FOUND', `config ${configId} not found`);
    return e;
  }

  async list(tenantId: string, pageSize: number, pageToken?: string) {
    const qb = this.ds.getRepository(ConfigEntity).createQueryBuilder('c').where('c.tenant_id = :t', { t: tenantId });
    const page = await paginate(qb, 'c', pageSize, pageToken);
    const connections = await this.connections.byIds(tenantId, [...new Set(page.items.flatMap((c) => c.mappings.map((m) => m.connection_id)))]);
    return {
      configs: await Promise.all(page.items.map((c) => this.toConfig(c, connections))),
      ...(page.next_page_token ? { next_page_token: page.next_page_token } : {}),
    };
  }

  async replace(tenantId: string, configId: string, input: ConfigInputData): Promise<McpConfig> {
    const e = await this.entity(tenantId, configId);
    const updated: ConfigEntity = {
      ...e,
      name: input.name,
      description: input.description ?? null,
      mappings: await this.toMappings(tenantId, input),
      capture_payloads: input.audit?.capture_payloads ?? false,
      // Not named: unchanged, so a client that predates the option never widens it by omission.
      ...storedClientRequests(input, clientRequestsOf(e)),
      updated_at: nowIso(),
    };
    try {
      await this.ds.getRepository(ConfigEntity).save(updated);
    } catch (err) {
      if (isUniqueViolation(err)) throw new VmcpError('ALREADY_EXISTS', `config "${input.name}" already exists`);
      throw err;
    }
    await this.revocations.touchTenant(tenantId);
    return this.toConfig(updated);
  }

  async remove(tenantId: string, configId: string): Promise<void> {
    await this.entity(tenantId, configId);
    // Edges stop serving the URL first; then the row goes.
    await this.revocations.revoke(configId);
    await this.ds.getRepository(ConfigEntity).delete({ id: configId, tenant_id: tenantId });
    await this.revocations.touchTenant(tenantId);
  }

  async accountStates(tenantId: string, configId: string, identifier: string) {
    const e = await this.entity(tenantId, configId);
    const ids = e.mappings.map((m) => m.connection_id);
    const connections = await this.connections.byIds(tenantId, ids);
    const accounts = await this.accounts.forIdentifier(tenantId, ids, identifier);
    return {
      connected_accounts: e.mappings.flatMap((m) => {
        const c = connections.get(m.connection_id);
        if (!c) return [];
        const a = accounts.get(c.id);
        const status = c.auth_type === 'none' ? 'ACTIVE' : (a?.status ?? 'NOT_CONNECTED');
        return [{ connection_name: c.name, connector: c.connector, auth_type: c.auth_type as AuthType, connected_account_id: a?.id ?? null, connected_account_status: status as 'ACTIVE' }];
      }),
    };
  }
}
