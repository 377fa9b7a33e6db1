import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { executor, policy, type ConnectionTarget, type ToolDefinition } from '@vmcp/contracts';
import { findConnector } from '@vmcp/connectors';
import { Bus } from '@vmcp/messaging';
import { CredentialGrantsService } from '../grants/credential-grants.service.js';
import { RevocationsKv } from '../shared/revocations.kv.js';
import type { Subscription } from '@nats-io/transport-node';

const TTL_MS = 30_000;
/** A failed discovery is tried again in the background after 1 s, then 2, 4, … at most a minute apart. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 60_000;
/** …for half an hour after it first failed; then only a new tools/list or call tries it. */
const RETRY_GIVE_UP_MS = 30 * 60_000;
/** At most this many (connection, account) pairs are retried at once: a dead upstream with many users. */
const RETRY_MAX_PAIRS = 1_000;

interface Entry {
  readonly tenantId: string;
  readonly connectionId: string;
  readonly accountId: string | null;
  readonly expires: number;
  readonly tools: Promise<ToolDefinition[]>;
}

interface Failure {
  readonly tenantId: string;
  readonly connectionId: string;
  readonly accountId: string | null;
  readonly since: number;
  readonly delayMs: number;
  readonly timer: NodeJS.Timeout;
}

/**
 * Tool definitions per (connection, account), discovered by the executor and cached
 * here for 30 s; account, connection and upstream tool-list changes drop entries at once.
 *
 * A failed discovery is not cached (the tools/list that met it named the connection
 * unavailable) but retried in the background with backoff: when it succeeds, the tenant is
 * marked changed, so every edge drops its lists and tells the tenant's connected agents
 * (notifications/tools/list_changed) that the missing tools are back.
 */
@Injectable()
export class ToolCatalogService implements OnModuleInit, OnModuleDestroy {
  private readonly cache = new Map<string, Entry>();
  private readonly failures = new Map<string, Failure>();
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
    for (const f of this.failures.values()) clearTimeout(f.timer);
    this.failures.clear();
  }

  /** Drops cached catalogs, and stops retrying failed ones: the next tools/list or call discovers afresh. */
  private drop(match: (e: Pick<Entry, 'connectionId' | 'accountId'>) => boolean): void {
    for (const [k, e] of this.cache) if (match(e)) this.cache.delete(k);
    for (const [k, f] of this.failures) {
      if (!match(f)) continue;
      clearTimeout(f.timer);
      this.failures.delete(k);
    }
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
    tools.then(
      () => this.recovered(key),
      () => {
        // A failed discovery is not cached, and is tried again later.
        if (this.cache.get(key)?.tools === tools) this.cache.delete(key);
        this.retryLater(key, tenantId, connection, accountId);
      },
    );
    return tools;
  }

  /** How many failed discoveries are waiting for a background retry (tests, metrics). */
  retryingCount(): number {
    return this.failures.size;
  }

  private retryLater(key: string, tenantId: string, connection: ConnectionTarget, accountId: string | null): void {
    const previous = this.failures.get(key);
    if (previous) clearTimeout(previous.timer);
    else if (this.failures.size >= RETRY_MAX_PAIRS) return;
    const since = previous?.since ?? Date.now();
    if (Date.now() - since > RETRY_GIVE_UP_MS) {
      this.failures.delete(key);
      return;
    }
    const delayMs = previous ? Math.min(RETRY_MAX_MS, previous.delayMs * 2) : RETRY_FIRST_MS;
    // The retry goes through tools(): its outcome reschedules (failure) or ends (success) this.
    const timer = setTimeout(() => void this.tools(tenantId, connection, accountId).catch(() => undefined), delayMs);
    timer.unref();
    this.failures.set(key, { tenantId, connectionId: connection.id, accountId, since, delayMs, timer });
  }

  /** A discovery that had failed works again: the tenant's lists missed its tools until now. */
  private recovered(key: string): void {
    const failure = this.failures.get(key);
    if (!failure) return;
    clearTimeout(failure.timer);
    this.failures.delete(key);
    void this.revocations.touchTenant(failure.tenantId);
  }

  private async discover(tenantId: string, connection: ConnectionTarget, accountId: string | null): Promise<ToolDefinition[]> {
    const grant = accountId ? await this.grants.sign(tenantId, accountId, 'list') : null;
    const reply = await this.bus.request(executor.listConnectionTools, { tenant_id: tenantId, connection, account_id: accountId, grant });
    return reply.tools;
  }
}
