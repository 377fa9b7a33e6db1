import type { RevocationsService } from '../auth/revocations.service.js';

/** What a held stream was opened under: whose change marks it hears, and what ends it. */
export interface HeldStream {
  readonly tenantId: string;
  readonly tokenId: string | undefined;
  readonly configId: string;
}

export interface TenantStreamsHooks<S> {
  /** Tells the client its tool list changed. */
  tell(stream: S): void;
  /** Ends the stream (it is already forgotten). */
  end(stream: S): void;
}

/**
 * The streams an edge replica holds open for clients to be told their tool list changed
 * (2025-era GET streams, 2026-07-28 listen streams), by tenant, kept in step with the
 * revocations watch: a tenant's change mark tells that tenant's streams, a restarted watch
 * (marks may have been missed) tells every stream, and a revoked token or deleted config ends
 * its streams at once. A stream is forgotten before it is ended, so no later mark reaches a
 * stream on its way out.
 */
export class TenantStreams<S extends HeldStream> {
  private readonly byTenant = new Map<string, Set<S>>();

  constructor(
    revocations: RevocationsService,
    private readonly hooks: TenantStreamsHooks<S>,
  ) {
    revocations.onChange({
      tenantChanged: (t) => this.byTenant.get(t)?.forEach((s) => hooks.tell(s)),
      reset: () => this.forEach((s) => hooks.tell(s)),
      revoked: (id) => this.end((s) => s.tokenId === id || s.configId === id),
    });
  }

  add(stream: S): void {
    let streams = this.byTenant.get(stream.tenantId);
    if (!streams) this.byTenant.set(stream.tenantId, (streams = new Set()));
    streams.add(stream);
  }

  /** Forgets the stream (again is fine). */
  delete(stream: S): void {
    const streams = this.byTenant.get(stream.tenantId);
    if (!streams?.delete(stream)) return;
    if (streams.size === 0) this.byTenant.delete(stream.tenantId);
  }

  /** Open streams of one tenant on this replica. */
  countOf(tenantId: string): number {
    return this.byTenant.get(tenantId)?.size ?? 0;
  }

  /** Open streams on this replica. */
  size(): number {
    let n = 0;
    for (const streams of this.byTenant.values()) n += streams.size;
    return n;
  }

  forEach(fn: (stream: S) => void): void {
    for (const streams of this.byTenant.values()) streams.forEach(fn);
  }

  /** Forgets and ends the matching streams. */
  end(matches: (stream: S) => boolean): void {
    for (const streams of [...this.byTenant.values()]) {
      for (const s of [...streams]) {
        if (!matches(s)) continue;
        this.delete(s);
        this.hooks.end(s);
      }
    }
  }
}
