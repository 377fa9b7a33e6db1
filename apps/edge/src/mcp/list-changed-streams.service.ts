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
      revoked: (id) => {
        for (const streams of this.byTenant.values()) for (const s of streams) if (s.tokenId === id || s.configId === id) s.res.end();
      },
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
    const stream: Stream = { res, tokenId: principal.token_id, configId: principal.config_id };
    let streams = this.byTenant.get(principal.tenant_id);
    if (!streams) this.byTenant.set(principal.tenant_id, (streams = new Set()));
    streams.add(stream);
    res.on('close', () => {
      streams.delete(stream);
      if (streams.size === 0 && this.byTenant.get(principal.tenant_id) === streams) this.byTenant.delete(principal.tenant_id);
    });
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
    for (const streams of this.byTenant.values()) for (const s of streams) s.res.end();
    this.byTenant.clear();
  }

  private tick(): void {
    for (const streams of this.byTenant.values()) {
      for (const s of streams) {
        if (s.tokenId !== undefined && this.revocations.isTokenRevoked(s.tokenId)) s.res.end();
        else s.res.write(': keep-alive\n\n');
      }
    }
  }

  private notify(streams: Set<Stream> | undefined): void {
    for (const s of streams ?? []) s.res.write(LIST_CHANGED);
  }

  private notifyAll(): void {
    for (const streams of this.byTenant.values()) this.notify(streams);
  }
}
