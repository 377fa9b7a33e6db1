import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { executor, policy, type ConnectionTarget, type ToolDefinition } from '@vmcp/contracts';
import { findConnector } from '@vmcp/connectors';
import { Bus } from '@vmcp/messaging';
import { metrics } from '@vmcp/telemetry';
import { CredentialGrantsService } from '../grants/credential-grants.service.js';
import { RevocationsKv } from '../shared/revocations.kv.js';
import { DiscoveryRetries, keyOf, type DiscoveryTarget } from './discovery-retries.js';
import type { Subscription } from '@nats-io/transport-node';

const TTL_MS = 30_000;

interface Entry {
  readonly connectionId: string;
  readonly accountId: string | null;
  readonly expires: number;
  readonly tools: Promise<ToolDefinition[]>;
}

/**
 * Tool definitions per (connection, account), discovered by the executor and cached
 * here for 30 s; account, connection and upstream tool-list changes drop entries at once.
 *
 * A failed discovery is not cached (the tools/list that met it named the connection
 * unavailable): for a few seconds after a slow failure a lookup fails at once with the
 * same error, and the pair is retried in the background (DiscoveryRetries). When a retry works, the tenant is marked
 * changed, so every edge drops its lists and tells the tenant's connected agents
 * (notifications/tools/list_changed) that the missing tools are back.
 */
@Injectable()
export class ToolCatalogService implements OnModuleInit, OnModuleDestroy {
  private readonly cache = new Map<string, Entry>();
  private readonly retries: DiscoveryRetries;
  private subscriptions: Subscription[] = [];
  private unobserve?: () => void;

  constructor(
    private readonly bus: Bus,
    private readonly grants: CredentialGrantsService,
    private readonly revocations: RevocationsKv,
  ) {
    this.retries = new DiscoveryRetries({
      probe: (target) => void this.lookup(target, true).catch(() => undefined),
      mark: (tenantId) => void this.revocations.touchTenant(tenantId),
      recovered: () => metrics().policy.discoveryRecovered(),
    });
  }

  onModuleInit(): void {
    this.unobserve = metrics().policy.observeRetrying(() => this.retries.size);
    this.subscriptions = [
      this.bus.subscribe(policy.accountChanged, (e) => this.drop((_c, accountId) => accountId === e.account_id)),
      this.bus.subscribe(policy.connectionChanged, (e) => this.drop((connectionId) => connectionId === e.connection_id)),
      this.bus.subscribe(executor.toolsChanged, (e) => {
        this.drop((connectionId, accountId) => connectionId === e.connection_id && (e.account_id === null || accountId === e.account_id));
        void this.revocations.touchTenant(e.tenant_id);
      }),
    ];
  }

  onModuleDestroy(): void {
    for (const s of this.subscriptions) s.unsubscribe();
    this.unobserve?.();
    this.retries.close();
  }

  /** Drops cached catalogs, and stops retrying failed ones: the next tools/list or call discovers afresh. */
  private drop(match: (connectionId: string, accountId: string | null) => boolean): void {
    for (const [k, e] of this.cache) if (match(e.connectionId, e.accountId)) this.cache.delete(k);
    this.retries.drop(match);
  }

  tools(tenantId: string, connection: ConnectionTarget, accountId: string | null): Promise<ToolDefinition[]> {
    // Native connectors' tools are static and in this build's catalog: no grant, no bus hop.
    const known = findConnector(connection.connector)?.tools;
    if (known) return Promise.resolve([...known]);
    return this.lookup({ tenantId, connection, accountId }, false);
  }

  /** How many failed discoveries are waiting for a background retry (tests, metrics). */
  retryingCount(): number {
    return this.retries.size;
  }

  /** `probe`: a background retry, which asks the upstream even within the fail-fast window. */
  private lookup(target: DiscoveryTarget, probe: boolean): Promise<ToolDefinition[]> {
    const key = keyOf(target);
    // Before the cache: what it holds for a pair that failed is a retry still running, which
    // a lookup in the fail-fast window does not wait for.
    const recent = probe ? undefined : this.retries.recentSlowFailure(key);
    if (recent) return Promise.reject(recent.error);
    const hit = this.cache.get(key);
    if (hit && hit.expires > Date.now()) {
      if (probe) void hit.tools.then(() => this.retries.succeeded(key), () => undefined);
      return hit.tools;
    }
    const startedAt = Date.now();
    const tools = this.discover(target);
    this.cache.set(key, { connectionId: target.connection.id, accountId: target.accountId, expires: Date.now() + TTL_MS, tools });
    tools.then(
      () => {
        if (this.cache.get(key)?.tools === tools) this.retries.succeeded(key);
      },
      (err: unknown) => {
        // Dropped (the connection or account changed) or replaced while it ran: neither
        // cached nor retried with what may be an old target.
        if (this.cache.get(key)?.tools !== tools) return;
        this.cache.delete(key);
        metrics().policy.discoveryFailed(err);
        this.retries.failed(key, target, err, Date.now() - startedAt);
      },
    );
    return tools;
  }

  private async discover({ tenantId, connection, accountId }: DiscoveryTarget): Promise<ToolDefinition[]> {
    const grant = accountId ? await this.grants.sign(tenantId, accountId, 'list') : null;
    const reply = await this.bus.request(executor.listConnectionTools, { tenant_id: tenantId, connection, account_id: accountId, grant });
    return reply.tools;
  }
}
