import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { ServerEvent, ServerEventBus } from '@modelcontextprotocol/server';
import type { SessionPrincipal } from '@vmcp/contracts';
import { RevocationsService } from '../auth/revocations.service.js';

/** Open `subscriptions/listen` streams one tenant may hold on one replica. */
export const MAX_LISTEN_STREAMS_PER_TENANT = 1000;

interface Opening {
  readonly principal: SessionPrincipal;
  /** Aborting it ends the listen request, which ends the stream. */
  readonly stop: AbortController;
}

interface Subscription extends Opening {
  readonly listener: (event: ServerEvent) => void;
}

/**
 * The change-event bus behind 2026-07-28 `subscriptions/listen` streams (the SDK owns the
 * wire: acknowledgement, filters, subscription ids). The SDK's own bus has no notion of
 * who listens, and one handler serves every tenant; this one files each stream under the
 * principal of the request that opened it, so a tenant change mark (config, connection,
 * account status, upstream tool list: the signal that also drops the edge's caches) tells
 * `notifications/tools/list_changed` to that tenant's streams only, on whichever replica
 * holds them. A stream whose token is revoked or whose config is deleted is ended at once.
 */
@Injectable()
export class ListenSubscriptions implements ServerEventBus, BeforeApplicationShutdown {
  private readonly opening = new AsyncLocalStorage<Opening>();
  private readonly byTenant = new Map<string, Set<Subscription>>();

  constructor(revocations: RevocationsService) {
    revocations.onChange({
      tenantChanged: (t) => this.notify(this.byTenant.get(t)),
      reset: () => this.notifyAll(),
      revoked: (id) => this.end((s) => s.principal.token_id === id || s.principal.config_id === id),
    });
  }

  /** Whether the tenant may open another stream here. */
  hasRoom(tenantId: string): boolean {
    return (this.byTenant.get(tenantId)?.size ?? 0) < MAX_LISTEN_STREAMS_PER_TENANT;
  }

  /**
   * Serves one 2026-07-28 request so that a listen stream it opens is filed under its
   * principal; `stop` ends that stream. The SDK subscribes while serving the request.
   */
  serve<T>(principal: SessionPrincipal, stop: AbortController, serve: () => T): T {
    return this.opening.run({ principal, stop }, serve);
  }

  /** Only the SDK's `notify` sugar publishes, which vmcp does not use: delivered to every stream of this replica. */
  publish(event: ServerEvent): void {
    for (const subs of this.byTenant.values()) for (const s of subs) s.listener(event);
  }

  subscribe(listener: (event: ServerEvent) => void): () => void {
    const opening = this.opening.getStore();
    // A stream opened outside serve() has no principal: it hears nothing.
    if (!opening) return () => undefined;
    const tenantId = opening.principal.tenant_id;
    const sub: Subscription = { ...opening, listener };
    let subs = this.byTenant.get(tenantId);
    if (!subs) this.byTenant.set(tenantId, (subs = new Set()));
    subs.add(sub);
    return () => {
      subs.delete(sub);
      if (subs.size === 0 && this.byTenant.get(tenantId) === subs) this.byTenant.delete(tenantId);
    };
  }

  /** Open streams on this replica (for tests and metrics). */
  size(): number {
    let n = 0;
    for (const subs of this.byTenant.values()) n += subs.size;
    return n;
  }

  beforeApplicationShutdown(): void {
    // Open streams would hold the HTTP server's close; clients listen again on another replica.
    this.end(() => true);
  }

  /** Ends the matching streams (the SDK tears each down when its request is aborted). */
  private end(matches: (s: Subscription) => boolean): void {
    for (const subs of [...this.byTenant.values()]) for (const s of [...subs]) if (matches(s)) s.stop.abort();
  }

  private notify(subs: Set<Subscription> | undefined): void {
    for (const s of subs ?? []) s.listener({ kind: 'tools_list_changed' });
  }

  private notifyAll(): void {
    for (const subs of this.byTenant.values()) this.notify(subs);
  }
}
