import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { executor, policy, type ConnectionTarget, type ToolDefinition } from '@vmcp/contracts';
import { findConnector } from '@vmcp/connectors';
import { Bus } from '@vmcp/messaging';
import { CredentialGrantsService } from '../grants/credential-grants.service.js';
import { RevocationsKv } from '../shared/revocations.kv.js';
import type { Subscription } from '@nats-io/transport-node';

const TTL_MS = 30_000;

interface Entry {
  readonly tenantId: string;
  readonly connectionId: string;
  readonly accountId: string | null;
  readonly expires: number;
  readonly tools: Promise<ToolDefinition[]>;
}

/**
 * Tool definitions per (connection, account), discovered by the executor and cached
 * here for 30 s; account, connection and upstream tool-list changes drop entries at once.
 */
@Injectable()
export class ToolCatalogService implements OnModuleInit, OnModuleDestroy {
  private readonly cache = new Map<string, Entry>();
  private subscriptions: Subscription[] = [];

  constructor(
    private readonly bus: Bus,
    private readonly grants: CredentialGrantsService,
    private readonly revocations: RevocationsKv,
  ) {}

  onModuleInit(): void {
    this.subscriptions = [
      this.bus.subscribe(policy.accountChanged, (e) => this.drop((x) => x.accountId === e.account_id)),
      this.bus.subscribe(policy.connectionChanged, (e) => this.drop((x) => x.connectionId === e.connection_id)),
      this.bus.subscribe(executor.toolsChanged, (e) => {
        this.drop((x) => x.connectionId === e.connection_id && (e.account_id === null || x.accountId === e.account_id));
        void this.revocations.touchTenant(e.tenant_id);
      }),
    ];
  }

  onModuleDestroy(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }

  private drop(match: (e: Entry) => boolean): void {
    for (const [k, e] of this.cache) if (match(e)) this.cache.delete(k);
  }

  tools(tenantId: string, connection: ConnectionTarget, accountId: string | null): Promise<ToolDefinition[]> {
    // Native connectors' tools are static and in this build's catalog: no grant, no bus hop.
    const known = findConnector(connection.connector)?.tools;
    if (known) return Promise.resolve([...known]);
    const key = `${connection.id}|${accountId ?? ''}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires > Date.now()) return hit.tools;
    const tools = this.discover(tenantId, connection, accountId);
    this.cache.set(key, { tenantId, connectionId: connection.id, accountId, expires: Date.now() + TTL_MS, tools });
    // A failed discovery is not cached.
    tools.catch(() => this.cache.get(key)?.tools === tools && this.cache.delete(key));
    return tools;
  }

  private async discover(tenantId: string, connection: ConnectionTarget, accountId: string | null): Promise<ToolDefinition[]> {
    const grant = accountId ? await this.grants.sign(tenantId, accountId, 'list') : null;
    const reply = await this.bus.request(executor.listConnectionTools, { tenant_id: tenantId, connection, account_id: accountId, grant });
    return reply.tools;
  }
}
