import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { SessionPrincipal } from '@vmcp/contracts';
import type { Response as ExpressResponse } from 'express';
import { RevocationsService } from '../auth/revocations.service.js';
import { TenantStreams, type HeldStream } from './tenant-streams.js';

/** How often an open stream gets a keep-alive comment, and its token's revocation is checked. */
const TICK_MS = 15_000;

const LIST_CHANGED = `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' })}\n\n`;

interface Stream extends HeldStream {
  readonly res: ExpressResponse;
}

/**
 * The standalone SSE streams (GET) of 2025-era sessions on this edge replica, by tenant. A
 * tenant change mark (the same signal that drops the edge's caches: a config, connection,
 * account status or upstream tool list changed) sends `notifications/tools/list_changed`
 * to every stream of that tenant, whichever replica holds it; the client lists again and
 * sees exactly what it may now use. A reset of the mark watch (marks may have been missed)
 * notifies every stream. A stream whose token is revoked or whose config is deleted is closed
 * (TenantStreams).
 */
@Injectable()
export class ListChangedStreams implements BeforeApplicationShutdown {
  private readonly streams: TenantStreams<Stream>;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly revocations: RevocationsService) {
    this.streams = new TenantStreams<Stream>(revocations, {
      tell: (s) => {
        if (!s.res.writableEnded) s.res.write(LIST_CHANGED);
      },
      end: (s) => s.res.end(),
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
    this.streams.add(stream);
    res.on('close', () => this.streams.delete(stream));
    // A write racing the client's disconnect must not become an unhandled 'error' event.
    res.on('error', () => this.streams.delete(stream));
    this.timer ??= setInterval(() => this.tick(), TICK_MS).unref();
  }

  /** Open streams on this replica (for tests and metrics). */
  size(): number {
    return this.streams.size();
  }

  beforeApplicationShutdown(): void {
    // Open streams would hold the HTTP server's close; clients reopen them on another replica.
    clearInterval(this.timer);
    this.streams.end(() => true);
  }

  /** Keep-alive, and the backstop for a revocation heard while the watch was down. */
  private tick(): void {
    this.streams.end((s) => s.tokenId !== undefined && this.revocations.isTokenRevoked(s.tokenId));
    this.streams.forEach((s) => s.res.write(': keep-alive\n\n'));
  }
}
