import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { edge } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';

type RequestId = string | number;

/**
 * The tools/call requests of 2025-era sessions this edge replica is running, by session
 * key and JSON-RPC id. An agent's `notifications/cancelled` is a POST of its own that any
 * replica may receive: that replica publishes it (`cancel`), every replica hears it, and
 * the one holding the call aborts it.
 */
@Injectable()
export class InFlightCalls implements OnModuleInit, OnModuleDestroy {
  private readonly calls = new Map<string, AbortController>();
  private subscription?: ReturnType<Bus['subscribe']>;

  constructor(private readonly bus: Bus) {}

  onModuleInit(): void {
    // No queue group: only the replica that holds the call can stop it.
    this.subscription = this.bus.subscribe(edge.callCancelled, (e) => this.calls.get(entryOf(e.key, e.request_id))?.abort());
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  /**
   * Registers a running call; its signal aborts when the agent cancels it on any replica, or
   * when `also` aborts (the client gone). `done` when it settles. (One signal fed by both,
   * rather than AbortSignal.any: a composite signal's bookkeeping was 1.7 % of the edge's CPU
   * on plain calls.)
   */
  track(sessionKey: string, requestId: RequestId, also?: AbortSignal): { signal: AbortSignal; done: () => void } {
    const entry = entryOf(sessionKey, requestId);
    const controller = new AbortController();
    const abort = () => controller.abort(also?.reason);
    if (also?.aborted) abort();
    else also?.addEventListener('abort', abort, { once: true });
    this.calls.set(entry, controller);
    return {
      signal: controller.signal,
      done: () => {
        also?.removeEventListener('abort', abort);
        if (this.calls.get(entry) === controller) this.calls.delete(entry);
      },
    };
  }

  /** The agent cancelled this request of its session: tell every replica. A malformed id is ignored. */
  cancel(sessionKey: string, requestId: unknown): void {
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
    const payload = edge.callCancelled.payload.safeParse({ key: sessionKey, request_id: requestId });
    if (payload.success) this.bus.publish(edge.callCancelled, payload.data);
  }

  get size(): number {
    return this.calls.size;
  }
}

/** `1` and `"1"` are different JSON-RPC ids. */
function entryOf(sessionKey: string, requestId: RequestId): string {
  return `${sessionKey} ${typeof requestId === 'number' ? 'n' : 's'}${String(requestId)}`;
}
