import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
// The SDK is published alone and depends on no internal lib; its tests may start a real nats-server.
import { startNatsServer, type NatsServerHandle } from '@vmcp/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { VmcpApiError, VmcpConnectionError, VmcpNats, VmcpTimeoutError, type EventDelivery, type PulledEvent, type VmcpError } from '../src/index.js';
import { errorReply, NO_REPLY, startBusStub, type BusStub, type StubRequest } from './bus-stub.js';

// The event feed's iterator against a real nats-server and a scripted stub of events.pull
// and events.ack: when deliveries are acknowledged, what comes again, and how it stops.

const API_KEY = 'vmcp_sk_test_0c7d2a9e4b1f6a3c8d5e';

let server: NatsServerHandle;
let nc: NatsConnection;
let stubs: BusStub[] = [];

beforeAll(async () => {
  server = await startNatsServer({ jetstream: false });
  nc = await connect({ servers: server.url, name: 'sdk-events-spec' });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});
afterEach(() => {
  vi.useRealTimers();
  for (const s of stubs) s.stop();
  stubs = [];
});

/** Delivery `n` of event `evt_<id>`; its ack id names both. */
function pulled(id: number, deliveries = 1): PulledEvent {
  return {
    ack_id: `a${id}.${deliveries}`,
    seq: id,
    deliveries,
    event: {
      event_id: `evt_${id}`,
      type: 'tool_call.finished',
      tenant_id: 'ten_1',
      occurred_at: '2026-01-01T00:00:00Z',
      data: { execution_id: `exe_${id}`, status: 'SUCCESS', duration_ms: 12 },
    },
  };
}

const batch = (...events: PulledEvent[]) => ({ events, redeliver_after_ms: 30_000 });

interface Feed {
  /** Replies to the coming pulls, in order; once used up, pulls are held unanswered. */
  readonly replies: unknown[];
  readonly pulls: Record<string, unknown>[];
  readonly acks: string[][];
  /** Subjects in arrival order, without the common prefix. */
  readonly order: string[];
  /** Called when a pull finds no reply left (and is held). */
  onHeld?: () => void;
}

/**
 * A stub of the feed's two operations, answering pulls from a script. Its subscription goes
 * out on the client's own connection, so the server has it before any later request.
 */
function startFeed(...replies: unknown[]): Feed {
  const feed: Feed = { replies, pulls: [], acks: [], order: [] };
  stubs.push(
    startBusStub(nc, (req: StubRequest) => {
      expect(req.apiKey).toBe(API_KEY);
      feed.order.push(req.subject.replace('vmcp.api.v1.', ''));
      if (req.subject === 'vmcp.api.v1.events.ack') {
        const ids = req.payload.ack_ids as string[];
        feed.acks.push(ids);
        return { acked: ids.length };
      }
      feed.pulls.push(req.payload);
      if (feed.replies.length > 0) return feed.replies.shift();
      feed.onHeld?.();
      return NO_REPLY;
    }),
  );
  return feed;
}

const client = (timeoutMs = 10_000) => new VmcpNats({ nats: nc, apiKey: API_KEY, timeoutMs });

describe('events.subscribe', () => {
  it('asks for the cursor, and acknowledges each delivery once the loop asks for the next one', async () => {
    const feed = startFeed(batch(pulled(1), pulled(2)), batch(pulled(3)));
    const ids: string[] = [];
    for await (const delivery of client().events.subscribe({ consumer: 'billing', types: ['tool_call.finished'], start: 'all', maxEvents: 2, waitMs: 1000 })) {
      ids.push(delivery.event.event_id);
      expect(delivery.event.data.execution_id).toBe(`exe_${delivery.seq}`);
      if (delivery.seq === 3) break;
    }
    expect(ids).toEqual(['evt_1', 'evt_2', 'evt_3']);
    expect(feed.pulls[0]).toEqual({ consumer: 'billing', types: ['tool_call.finished'], start: 'all', max_events: 2, wait_ms: 1000 });
    // The batch's acks go in one request before the next pull; the delivery the loop left is not acknowledged.
    expect(feed.order).toEqual(['events.pull', 'events.ack', 'events.pull']);
    expect(feed.acks).toEqual([['a1.1', 'a2.1']]);
  });

  it('leaves the delivery a failing loop body was handling unacknowledged, so it comes again', async () => {
    const feed = startFeed(batch(pulled(1), pulled(2)));
    const vmcp = client();
    const failed = (async () => {
      for await (const { event } of vmcp.events.subscribe({ consumer: 'billing' })) {
        if (event.event_id === 'evt_2') throw new Error('the billing database is down');
      }
    })();
    await expect(failed).rejects.toThrow('the billing database is down');
    expect(feed.acks).toEqual([['a1.1']]);

    // The next reader of the cursor gets it again (here: its second delivery).
    feed.replies.push(batch(pulled(2, 2)));
    for await (const delivery of vmcp.events.subscribe({ consumer: 'billing' })) {
      expect([delivery.event.event_id, delivery.deliveries]).toEqual(['evt_2', 2]);
      await delivery.ack();
      break;
    }
    expect(feed.acks).toEqual([['a1.1'], ['a2.2']]);
  });

  it('drops a redelivery of an event it already yielded, and acknowledges it', async () => {
    const feed = startFeed(batch(pulled(1)), batch(pulled(1, 2), pulled(2)));
    const ids: string[] = [];
    for await (const { event } of client().events.subscribe({ consumer: 'billing' })) {
      ids.push(event.event_id);
      if (event.event_id === 'evt_2') break;
    }
    expect(ids).toEqual(['evt_1', 'evt_2']);
    expect(feed.acks).toEqual([['a1.1'], ['a1.2']]);
  });

  it('with autoAck false, acknowledges only on delivery.ack(), which covers the duplicates it dropped', async () => {
    const feed = startFeed(batch(pulled(1)), batch(pulled(1, 2), pulled(2)));
    let first: EventDelivery | undefined;
    for await (const delivery of client().events.subscribe({ consumer: 'billing', autoAck: false })) {
      if (!first) {
        first = delivery;
        continue;
      }
      expect(delivery.event.event_id).toBe('evt_2');
      expect(feed.acks).toEqual([]);
      await first.ack();
      await first.ack(); // once is enough
      break;
    }
    expect(feed.acks).toEqual([['a1.1', 'a1.2']]);
    expect(feed.order).toEqual(['events.pull', 'events.pull', 'events.ack']);
  });

  it('acknowledges at once on delivery.ack(), and not again when the loop moves on', async () => {
    const feed = startFeed(batch(pulled(1), pulled(2)));
    for await (const delivery of client().events.subscribe({ consumer: 'billing' })) {
      if (delivery.seq === 1) {
        await delivery.ack();
        expect(feed.acks).toEqual([['a1.1']]);
      } else break;
    }
    expect(feed.acks).toEqual([['a1.1']]);
  });

  it('sends the acks of a long batch before the gateway would redeliver them', async () => {
    // The gateway redelivers after 2 ms here: acks go out once half of that passed. The clock
    // is the test's (Date only; timers and I/O are real), so time passes only in seq 2's
    // handling, never by accident between two deliveries on a loaded machine.
    vi.useFakeTimers({ toFake: ['Date'] });
    const feed = startFeed({ ...batch(pulled(1), pulled(2), pulled(3)), redeliver_after_ms: 2 });
    for await (const delivery of client().events.subscribe({ consumer: 'billing' })) {
      if (delivery.seq === 2) {
        // Slow handling: two milliseconds pass.
        vi.setSystemTime(Date.now() + 2);
        await nc.flush();
      }
      if (delivery.seq === 3) {
        expect(feed.acks).toEqual([['a1.1', 'a2.1']]);
        break;
      }
    }
    expect(feed.order).toEqual(['events.pull', 'events.ack']);
  });

  it('ends cleanly when its signal aborts, also while a long poll waits, after acknowledging what was handled', async () => {
    const feed = startFeed(batch(pulled(1)));
    const stop = new AbortController();
    feed.onHeld = () => stop.abort();
    const ids: string[] = [];
    for await (const { event } of client().events.subscribe({ consumer: 'billing', signal: stop.signal })) ids.push(event.event_id);
    expect(ids).toEqual(['evt_1']);
    expect(feed.order).toEqual(['events.pull', 'events.ack', 'events.pull']);
    expect(feed.acks).toEqual([['a1.1']]);
  });

  it('backs off and goes on after no responders, a retryable code and a timeout', async () => {
    const retries: [string, string | undefined][] = [];
    let feed: Feed | undefined;
    const ids: string[] = [];
    const vmcp = client(200);
    const onRetry = (err: VmcpError, delayMs: number) => {
      expect(delayMs).toBeGreaterThanOrEqual(0);
      expect(delayMs).toBeLessThanOrEqual(5_000);
      retries.push([err.constructor.name, err instanceof VmcpApiError ? err.code : undefined]);
      // Nothing served the subject at first; then the feed answers UNAVAILABLE, then nothing (a timeout), then events.
      feed ??= startFeed(errorReply('UNAVAILABLE', 'the events stream is not ready'), NO_REPLY, batch(pulled(1)));
    };
    for await (const { event } of vmcp.events.subscribe({ consumer: 'billing', waitMs: 0, onRetry })) {
      ids.push(event.event_id);
      break;
    }
    expect(ids).toEqual(['evt_1']);
    expect(retries).toEqual([
      [VmcpConnectionError.name, undefined],
      [VmcpApiError.name, 'UNAVAILABLE'],
      [VmcpTimeoutError.name, undefined],
    ]);
    expect(feed!.pulls).toHaveLength(3);
  });

  it('ends by throwing a failure no retry can fix, such as a wrong key', async () => {
    const feed = startFeed(errorReply('UNAUTHENTICATED', 'invalid API key'));
    const retries: VmcpError[] = [];
    const err = await (async () => {
      for await (const _ of client().events.subscribe({ consumer: 'billing', onRetry: (e) => retries.push(e) })) expect.unreachable();
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VmcpApiError);
    expect(err).toMatchObject({ code: 'UNAUTHENTICATED', status: 401, message: 'vmcp.api.v1.events.pull: invalid API key' });
    expect(retries).toEqual([]);
    expect(feed.pulls).toHaveLength(1);
  });
});

describe('events, one request each', () => {
  it('pulls, acknowledges and deletes a cursor', async () => {
    stubs.push(startBusStub(nc, (req) => (req.subject.endsWith('delete_consumer') ? { consumer: 'billing', deleted: true } : req.subject.endsWith('ack') ? { acked: 1 } : batch(pulled(7)))));
    const vmcp = client();
    expect(await vmcp.events.pull({ consumer: 'billing', max_events: 1 })).toEqual(batch(pulled(7)));
    expect(await vmcp.events.ack('billing', ['a7.1'])).toEqual({ acked: 1 });
    expect(await vmcp.events.deleteConsumer('billing')).toEqual({ consumer: 'billing', deleted: true });
    expect(stubs[0]!.requests.map((r) => [r.subject, r.payload])).toEqual([
      ['vmcp.api.v1.events.pull', { consumer: 'billing', max_events: 1 }],
      ['vmcp.api.v1.events.ack', { consumer: 'billing', ack_ids: ['a7.1'] }],
      ['vmcp.api.v1.events.delete_consumer', { consumer: 'billing' }],
    ]);
  });
});
