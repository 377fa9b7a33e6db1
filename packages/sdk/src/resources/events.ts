import { BUS_SUBJECTS } from '../bus.js';
import type { VmcpError } from '../errors.js';
import type { EventDelivery, EventEnvelope, EventOfType, EventStart, EventType, PulledEvent, PulledEvents, PullEventsInput, VmcpEvent } from '../event-types.js';
import { sleep, type NatsTransport } from '../nats-transport.js';
import { retryDelayAfter } from '../retry.js';

export interface SubscribeOptions {
  /** The cursor's name ("billing", "crm-sync"): where a reader resumes after a restart. Readers sharing it share the work. */
  readonly consumer: string;
  /** Event types to receive; all when absent. Fixed when the cursor is made: a new set needs a new name. */
  readonly types?: readonly EventType[];
  /** Where a new cursor starts: `new` (default), or `all` for every event still kept. Ignored once it exists. */
  readonly start?: EventStart;
  /** Ends the iteration (cleanly, acknowledging what was handled), also while it waits for events. */
  readonly signal?: AbortSignal;
  /**
   * Acknowledge each delivery when the loop asks for the next one (default true). With
   * `false`, only `delivery.ack()` acknowledges: what is not acknowledged comes again.
   */
  readonly autoAck?: boolean;
  /** Most events per request (1 to 256, default 64). Smaller batches suit slow handlers. */
  readonly maxEvents?: number;
  /** How long one request waits for events when none are pending (0 to 30 000 ms, default 5 000). */
  readonly waitMs?: number;
  /** Called before each wait after a failure worth retrying (timeout, gateway unreachable or busy), e.g. to log it. */
  readonly onRetry?: (error: VmcpError, delayMs: number) => void;
}

/** How many event ids an iterator remembers to drop redeliveries of what it already yielded. */
const DEDUPE_WINDOW = 10_000;
/** The most ack ids one `events.ack` takes. */
const MAX_ACK_IDS = 256;

/** What an iterator knows of one event it yielded. */
interface Yielded {
  acked: boolean;
  /** Ack ids of its deliveries not yet acknowledged (the first, then any duplicates dropped). */
  ackIds: string[];
}

/**
 * The tenant's event feed (NATS only): tool calls and account status changes, read through
 * named durable cursors that vmcp keeps, so a reader that was down resumes where it
 * acknowledged. Delivery is at least once; see `subscribe`.
 */
export class Events {
  constructor(private readonly transport: NatsTransport) {}

  /**
   * Every event of the cursor, as it comes, for as long as the loop runs: waits for new
   * events (long polling) and backs off while the gateway is unreachable or busy.
   *
   * - A delivery is acknowledged when the loop asks for the next one, so a crash inside
   *   the loop body leaves it unacknowledged and it comes again; `delivery.ack()`
   *   acknowledges earlier, `autoAck: false` leaves it to you.
   * - An event this iterator already yielded is not yielded again (its redelivery is
   *   dropped); across restarts, make handling idempotent by `event.event_id`.
   * - `break`, `return` and `signal` end it cleanly: what the loop moved past is
   *   acknowledged; the delivery the loop left is not, unless you acknowledged it.
   * - A failure no retry can fix (`UNAUTHENTICATED`, `INVALID_ARGUMENT`, …) ends it by
   *   throwing its VmcpError.
   */
  subscribe<const T extends EventType>(options: SubscribeOptions & { readonly types: readonly T[] }): AsyncGenerator<EventDelivery<EventOfType<T>>, void, undefined>;
  subscribe(options: SubscribeOptions): AsyncGenerator<EventDelivery<VmcpEvent>, void, undefined>;
  subscribe(options: SubscribeOptions): AsyncGenerator<EventDelivery<EventEnvelope>, void, undefined> {
    return this.#follow(options);
  }

  /** One batch of the cursor's events, made on first use (the iterator's building block). */
  pull(input: PullEventsInput, signal?: AbortSignal): Promise<PulledEvents> {
    // The gateway holds the request for up to wait_ms before it answers.
    const timeoutMs = this.transport.timeoutMs + (input.wait_ms ?? 5_000);
    return this.transport.request<PulledEvents>(BUS_SUBJECTS['events.pull'], input, { idempotent: false, timeoutMs, signal });
  }

  /** Acknowledges deliveries by their `ack_id` (up to 256 at once); acknowledging one twice is harmless. */
  ack(consumer: string, ackIds: readonly string[]): Promise<{ acked: number }> {
    return this.transport.request(BUS_SUBJECTS['events.ack'], { consumer, ack_ids: ackIds }, { idempotent: true });
  }

  /** Deletes the cursor and its position; a later `subscribe` with the name starts afresh (`start`). */
  deleteConsumer(consumer: string): Promise<{ consumer: string; deleted: true }> {
    // Retried like an HTTP DELETE.
    return this.transport.request(BUS_SUBJECTS['events.deleteConsumer'], { consumer }, { idempotent: true });
  }

  async *#follow(options: SubscribeOptions): AsyncGenerator<EventDelivery<EventEnvelope>, void, undefined> {
    const { consumer, signal } = options;
    const autoAck = options.autoAck ?? true;
    const request: PullEventsInput = { consumer, types: options.types, start: options.start, max_events: options.maxEvents, wait_ms: options.waitMs };
    const yielded = new Map<string, Yielded>();
    // Handled deliveries not yet sent to events.ack, and since when the oldest waits.
    const handled: string[] = [];
    let handledSince = 0;
    let redeliverAfterMs = Number.POSITIVE_INFINITY;
    let failures = 0;

    const queue = (ackIds: string[]) => {
      if (handled.length === 0) handledSince = Date.now();
      handled.push(...ackIds.splice(0));
    };
    const flush = async () => {
      while (handled.length > 0) await this.ack(consumer, handled.slice(0, MAX_ACK_IDS)).then(() => handled.splice(0, MAX_ACK_IDS));
    };

    try {
      while (!signal?.aborted) {
        let batch: PulledEvents;
        try {
          await flush();
          batch = await this.pull(request, signal);
          failures = 0;
        } catch (err) {
          if (signal?.aborted) return;
          const delay = retryDelayAfter(err, ++failures);
          if (delay === undefined) throw err;
          options.onRetry?.(err as VmcpError, delay);
          await sleep(delay, signal).catch(() => undefined);
          continue;
        }
        redeliverAfterMs = batch.redeliver_after_ms;
        for (const pulled of batch.events) {
          const seen = yielded.get(pulled.event.event_id);
          if (seen) {
            // A redelivery of an event this loop already had: acknowledged with it.
            if (seen.acked) queue([pulled.ack_id]);
            else seen.ackIds.push(pulled.ack_id);
            continue;
          }
          const state: Yielded = { acked: false, ackIds: [pulled.ack_id] };
          remember(yielded, pulled.event.event_id, state);
          yield this.#delivery(consumer, pulled, state);
          // The loop asked for the next one: it is done with this delivery.
          if (autoAck && !state.acked) {
            state.acked = true;
            queue(state.ackIds);
          }
          if (signal?.aborted) return;
          // Long handling of a large batch: send acks before the gateway starts redelivering
          // (a failure here leaves them queued for the flush before the next pull, which retries).
          if (handled.length > 0 && Date.now() - handledSince >= redeliverAfterMs / 2) await flush().catch(() => undefined);
        }
      }
    } finally {
      // Best effort: what is not acknowledged now comes again (at least once), and the
      // loop's own error, if it ended by one, must not be replaced by this one.
      await flush().catch(() => undefined);
    }
  }

  #delivery(consumer: string, pulled: PulledEvent, state: Yielded): EventDelivery<EventEnvelope> {
    return {
      event: pulled.event,
      seq: pulled.seq,
      deliveries: pulled.deliveries,
      ack: async () => {
        if (state.acked) return;
        state.acked = true;
        const ackIds = state.ackIds.splice(0);
        try {
          for (let i = 0; i < ackIds.length; i += MAX_ACK_IDS) await this.ack(consumer, ackIds.slice(i, i + MAX_ACK_IDS));
        } catch (err) {
          state.acked = false;
          state.ackIds.unshift(...ackIds);
          throw err;
        }
      },
    };
  }
}

/** Adds an event id, forgetting the oldest beyond the window (a Map keeps insertion order). */
function remember(yielded: Map<string, Yielded>, eventId: string, state: Yielded): void {
  yielded.set(eventId, state);
  for (const oldest of yielded.keys()) {
    if (yielded.size <= DEDUPE_WINDOW) break;
    yielded.delete(oldest);
  }
}
