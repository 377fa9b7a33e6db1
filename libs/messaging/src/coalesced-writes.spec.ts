import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWrites } from './coalesced-writes.js';

// Unique subjects per run: the shared NATS on 4222 may carry other runs' traffic.
const run = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const NATS = 'nats://127.0.0.1:4222';

/** Counts the socket writes of a connection (its transport's sends). */
function countWrites(nc: NatsConnection): () => number {
  const transport = (nc as unknown as { protocol: { transport: { send(data: Uint8Array): void } } }).protocol.transport;
  const send = transport.send.bind(transport);
  let writes = 0;
  transport.send = (data) => {
    writes++;
    send(data);
  };
  return () => writes;
}

describe('coalesceWrites', () => {
  const open: NatsConnection[] = [];
  const client = async () => {
    const nc = await connect({ servers: NATS });
    open.push(nc);
    return nc;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((nc) => nc.close()));
  });

  it('takes effect on the nats.js installed here (an upgrade that changes its internals fails this)', async () => {
    expect(coalesceWrites(await client())).toBe(true);
  });

  it('changes nothing on something that is not a nats.js connection', () => {
    expect(coalesceWrites({} as NatsConnection)).toBe(false);
    expect(coalesceWrites({ protocol: { sendCommand: () => undefined } } as unknown as NatsConnection)).toBe(false);
  });

  it('sends what is published over several turns of the microtask queue in two writes, in order: the first at once, the rest after the turn', async () => {
    const subscriber = await client();
    const got: number[] = [];
    const subject = `vmcp.test.v1.${run}.order`;
    const all = new Promise<void>((resolve) =>
      subscriber.subscribe(subject, {
        callback: (_err, msg) => {
          got.push(Number(msg.string()));
          if (got.length === 50) resolve();
        },
      }),
    );
    await subscriber.flush();

    const publisher = await client();
    coalesceWrites(publisher);
    const writes = countWrites(publisher);
    // Each publish after an await: nats.js alone writes at every microtask checkpoint.
    await (async () => {
      for (let i = 0; i < 50; i++) {
        publisher.publish(subject, String(i));
        await Promise.resolve();
      }
    })();
    expect(writes()).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(writes()).toBe(2);
    await all;
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('does not hold the first message after a quiet turn for the rest of its turn: it leaves at the next microtask checkpoint', async () => {
    const publisher = await client();
    coalesceWrites(publisher);
    const writes = countWrites(publisher);
    const turn = () => new Promise((r) => setImmediate(r));
    for (let i = 1; i <= 3; i++) {
      // A turn without writes in between: the connection is idle again.
      await turn();
      await turn();
      publisher.publish(`vmcp.test.v1.${run}.lone`, String(i));
      expect(writes()).toBe(i - 1);
      await Promise.resolve();
      expect(writes()).toBe(i);
    }
  });

  it('holds every message while consecutive turns write (a busy connection), one write per turn', async () => {
    const publisher = await client();
    coalesceWrites(publisher);
    const writes = countWrites(publisher);
    const turn = () => new Promise((r) => setImmediate(r));
    publisher.publish(`vmcp.test.v1.${run}.busy`, 'first');
    await Promise.resolve();
    expect(writes()).toBe(1);
    for (let i = 0; i < 5; i++) {
      await turn();
      publisher.publish(`vmcp.test.v1.${run}.busy`, `a${i}`);
      publisher.publish(`vmcp.test.v1.${run}.busy`, `b${i}`);
      await Promise.resolve();
      expect(writes()).toBe(1 + i);
    }
    await turn();
    expect(writes()).toBe(6);
  });

  it('without it, the same publishes take a write each (what it saves)', async () => {
    const publisher = await client();
    const writes = countWrites(publisher);
    for (let i = 0; i < 10; i++) {
      publisher.publish(`vmcp.test.v1.${run}.plain`, String(i));
      await Promise.resolve();
    }
    await new Promise((r) => setImmediate(r));
    expect(writes()).toBe(10);
  });

  it('keeps request/reply, flush and drain working: nothing given before drain is lost', async () => {
    const responder = await client();
    coalesceWrites(responder);
    const subject = `vmcp.test.v1.${run}.echo`;
    responder.subscribe(subject, {
      callback: (_err, msg) => {
        msg.respond(msg.data);
      },
    });
    await responder.flush();

    const requester = await client();
    coalesceWrites(requester);
    expect((await requester.request(subject, 'ping', { timeout: 5000 })).string()).toBe('ping');

    const sink = `vmcp.test.v1.${run}.sink`;
    const got: string[] = [];
    const listener = await client();
    const done = new Promise<void>((resolve) =>
      listener.subscribe(sink, {
        callback: (_err, msg) => {
          got.push(msg.string());
          if (got.length === 3) resolve();
        },
      }),
    );
    await listener.flush();
    for (const text of ['a', 'b', 'c']) requester.publish(sink, text);
    // Straight into drain, before the deferred write would run.
    await requester.drain();
    await done;
    expect(got).toEqual(['a', 'b', 'c']);
  });
});
