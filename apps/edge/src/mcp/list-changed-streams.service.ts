import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { SessionPrincipal } from '@vmcp/contracts';
import type { Response as ExpressResponse } from 'express';
import { RevocationsService } from '../auth/revocations.service.js';

/** How often an open stream gets a keep-alive comment, and its token's revocation is checked. */
const TICK_MS = 15_000;

const LIST_CHANGED = `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' })}\n\n`;

interface Stream {
  readonly res: ExpressResponse;
  readonly tokenId: string | undefined;
  readonly configId: string;
  readonly tenantId: string;
}

/**
 * The standalone SSE streams (GET) of 2025-era sessions on this edge replica, by tenant. A
 * tenant change mark (the same signal that drops the edge's caches: a config, connection,
 * account status or upstream tool list changed) sends `notifications/tools/list_changed`
 * to every stream of that tenant, whichever replica holds it; the client lists again and
 * sees exactly what it may now use. A reset of the mark watch (marks may have been missed)
 * notifies every stream. A stream whose token is revoked or whose config is deleted is closed.
 */
@Injectable()
export class ListChangedStreams implements BeforeApplicationShutdown {
  private readonly byTenant = new Map<string, Set<Stream>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly revocations: RevocationsService) {
    revocations.onChange({
      tenantChanged: (t) => this.notify(this.byTenant.get(t)),
      reset: () => this.notifyAll(),
      // A revoked token or deleted config ends its streams at once (the tick is the backstop).
      revoked: (id) => this.end((s) => s.tokenId === id || s.configId === id),
    });
  }

  /** Takes over `res` as this session's event stream until the client goes away. */
  open(res: ExpressResponse, principal: SessionPrincipal, sessionId: string): void {
    res.status(200).set({
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'mcp-session-id': sessionId,
    });
    res.flushHeaders();
    const stream: Stream = { res, tokenId: principal.token_id, configId: principal.config_id, tenantId: principal.tenant_id };
    let streams = this.byTenant.get(principal.tenant_id);
    if (!streams) this.byTenant.set(principal.tenant_id, (streams = new Set()));
    streams.add(stream);
    res.on('close', () => this.forget(stream));
    // A write racing the client's disconnect must not become an unhandled 'error' event.
    res.on('error', () => this.forget(stream));
    this.timer ??= setInterval(() => this.tick(), TICK_MS).unref();
  }

  /** Open streams on this replica (for tests and metrics). */
  size(): number {
    let n = 0;
    for (const s of this.byTenant.values()) n += s.size;
    return n;
  }

  beforeApplicationShutdown(): void {
    // Open streams would hold the HTTP server's close; clients reopen them on another replica.
    clearInterval(this.timer);
    this.end(() => true);
  }

  private tick(): void {
    this.end((s) => s.tokenId !== undefined && this.revocations.isTokenRevoked(s.tokenId));
    for (const streams of this.byTenant.values()) for (const s of streams) s.res.write(': keep-alive\n\n');
  }

  /**
   * Ends the matching streams and forgets them at once: the response's 'close' comes later,
   * and a write to an ended response in between would be an unhandled stream error.
   */
  private end(matches: (s: Stream) => boolean): void {
    for (const streams of [...this.byTenant.values()]) {
      for (const s of [...streams]) {
        if (!matches(s)) continue;
        this.forget(s);
        s.res.end();
      }
    }
  }

  private forget(s: Stream): void {
    const streams = this.byTenant.get(s.tenantId);
    if (!streams) return;
    streams.delete(s);
    if (streams.size === 0) this.byTenant.delete(s.tenantId);
  }

  private notify(streams: Set<Stream> | undefined): void {
    for (const s of streams ?? []) if (!s.res.writableEnded) s.res.write(LIST_CHANGED);
  }

  private notifyAll(): void {
    for (const streams of this.byTenant.values()) this.notify(streams);
  }
}
