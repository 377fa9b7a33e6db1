import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { ServerEvent, ServerEventBus } from '@modelcontextprotocol/server';
import type { SessionPrincipal } from '@vmcp/contracts';
import { RevocationsService } from '../auth/revocations.service.js';
import { TenantStreams, type HeldStream } from './tenant-streams.js';

/** Open `subscriptions/listen` streams one tenant may hold on one replica. */
export const MAX_LISTEN_STREAMS_PER_TENANT = 1000;

interface Opening {
  readonly principal: SessionPrincipal;
  /** Aborting it ends the listen request, which ends the stream. */
  readonly stop: AbortController;
}

interface Subscription extends HeldStream {
  readonly stop: AbortController;
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
  private readonly subs: TenantStreams<Subscription>;

  constructor(revocations: RevocationsService) {
    this.subs = new TenantStreams<Subscription>(revocations, {
      tell: (s) => s.listener({ kind: 'tools_list_changed' }),
      // The SDK tears the stream down when its request is aborted.
      end: (s) => s.stop.abort(),
    });
  }

  /** Whether the tenant may open another stream here. */
  hasRoom(tenantId: string): boolean {
    return this.subs.countOf(tenantId) < MAX_LISTEN_STREAMS_PER_TENANT;
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
    this.subs.forEach((s) => s.listener(event));
  }

  subscribe(listener: (event: ServerEvent) => void): () => void {
    const opening = this.opening.getStore();
    // A stream opened outside serve() has no principal: it hears nothing.
    if (!opening) return () => undefined;
    const { principal, stop } = opening;
    const sub: Subscription = { tenantId: principal.tenant_id, tokenId: principal.token_id, configId: principal.config_id, stop, listener };
    this.subs.add(sub);
    return () => this.subs.delete(sub);
  }

  /** Open streams on this replica (for tests and metrics). */
  size(): number {
    return this.subs.size();
  }

  beforeApplicationShutdown(): void {
    // Open streams would hold the HTTP server's close; clients listen again on another replica.
    this.subs.end(() => true);
  }
}
