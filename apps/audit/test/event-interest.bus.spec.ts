import { Kvm } from '@nats-io/kv';
import { Bus, EVENT_INTEREST_WRITERS, markToolCallInterest, markWriterReady, openEventInterest, ToolCallInterest } from '@vmcp/messaging';
import { startNatsServer, uniqueName, waitFor, type NatsServerHandle } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The event-interest bucket, as the audit service sees it: tool-call events are published for
// marked tenants only, once the marks are loaded and every writer (policy, edge) has said it
// marked all of its tenants; for every tenant otherwise (before that, while NATS or the bucket
// is away, on a bucket made again), so an outage never loses an event someone reads.
// (The service looks the bucket up every 5 s; these watchers every 100 ms.)

describe('tool-call event interest', () => {
  let nats: NatsServerHandle;
  let bus: Bus;
  const watchers: ToolCallInterest[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    bus = await Bus.connect({ url: nats.url, name: 'interest-test', timeoutMs: 3000 });
  });

  afterAll(async () => {
    await Promise.all(watchers.map((w) => w.close()));
    await bus?.close();
    await nats?.stop();
  });

  const watcher = (bucket: string, log?: { down(err: Error, wasLive: boolean): void; up(): void }) => {
    const interest = new ToolCallInterest(bus, bucket, log, { retryMs: 50, checkMs: 100 });
    watchers.push(interest);
    interest.start();
    return interest;
  };
  /** A bucket whose writers are all done, marking `tenants`. */
  const readyBucket = async (bucket: string, ...tenants: string[]) => {
    const kv = await openEventInterest(bus, bucket);
    for (const t of tenants) await markToolCallInterest(kv, t);
    for (const w of EVENT_INTEREST_WRITERS) await markWriterReady(kv, w);
    return kv;
  };

  it('wants every tenant until the marks are loaded and every writer is ready, then the marked ones, a new mark within moments', async () => {
    const bucket = uniqueName('interest_');
    // No bucket yet: it is not the audit service's to make (and not a fault before it was ever read).
    const log = { down: vi.fn(), up: vi.fn() };
    const interest = watcher(bucket, log);
    expect(interest.wants('ten_anyone')).toBe(true);
    await waitFor(() => log.down.mock.calls.length > 0, { what: 'the missing bucket noticed' });
    expect(log.down.mock.calls).toEqual([[expect.any(Error), false]]);
    const kv = await openEventInterest(bus, bucket);
    await markToolCallInterest(kv, 'ten_marked1');
    await markWriterReady(kv, 'policy');
    // Policy is done, the edge is not: its cursors' tenants may be missing.
    await new Promise((r) => setTimeout(r, 300));
    expect(interest.isLive()).toBe(false);
    expect(interest.wants('ten_other')).toBe(true);
    await markWriterReady(kv, 'edge');
    await waitFor(() => interest.isLive(), { what: 'every writer ready' });
    expect(interest.wants('ten_marked1')).toBe(true);
    expect(interest.wants('ten_other')).toBe(false);
    expect(log.up).toHaveBeenCalledOnce();
    await markToolCallInterest(kv, 'ten_other');
    await waitFor(() => interest.wants('ten_other'), { what: 'the new mark' });
    expect(await new Kvm(bus.connection).open(bucket).then((b) => b.keys()).then(async (it) => { const keys: string[] = []; for await (const k of it) keys.push(k); return keys.sort(); })).toEqual([
      'ready.edge',
      'ready.policy',
      'tool_calls.ten_marked1',
      'tool_calls.ten_other',
    ]);
  });

  it('wants every tenant once its bucket is gone, and stays so on a bucket made again until every writer is ready there', async () => {
    const bucket = uniqueName('interest_');
    const kv = await readyBucket(bucket, 'ten_kept');
    const interest = watcher(bucket);
    await waitFor(() => interest.isLive(), { what: 'live' });
    expect(interest.wants('ten_x')).toBe(false);
    await kv.destroy();
    await waitFor(() => interest.wants('ten_x'), { what: 'fail open without the bucket' });
    // One writer's mark makes the bucket again: it holds that mark only, so it is not trusted.
    const again = await openEventInterest(bus, bucket);
    await markToolCallInterest(again, 'ten_y');
    await new Promise((r) => setTimeout(r, 300));
    expect(interest.isLive()).toBe(false);
    expect(interest.wants('ten_x')).toBe(true);
    for (const w of EVENT_INTEREST_WRITERS) await markWriterReady(again, w);
    await waitFor(() => interest.isLive(), { what: 'live on the new bucket' });
    expect(interest.wants('ten_y')).toBe(true);
    expect(interest.wants('ten_kept')).toBe(false);
  });

  it('wants every tenant while NATS is down, and only the marked ones after it is back', async () => {
    const bucket = uniqueName('interest_');
    await readyBucket(bucket, 'ten_kept');
    const log = { down: vi.fn(), up: vi.fn() };
    const interest = watcher(bucket, log);
    await waitFor(() => interest.isLive(), { what: 'live' });
    expect(interest.wants('ten_y')).toBe(false);
    await nats.halt();
    await waitFor(() => interest.wants('ten_y'), { what: 'fail open while NATS is down', timeoutMs: 15_000 });
    // Once, and as a fault: it had been live.
    await waitFor(() => log.down.mock.calls.length > 0);
    expect(log.down.mock.calls).toEqual([[expect.any(Error), true]]);
    await nats.restart();
    await waitFor(() => interest.isLive(), { what: 'live after the restart', timeoutMs: 20_000 });
    expect(interest.wants('ten_y')).toBe(false);
    expect(interest.wants('ten_kept')).toBe(true);
    await markToolCallInterest(await openEventInterest(bus, bucket), 'ten_y');
    await waitFor(() => interest.wants('ten_y'), { what: 'a mark after the restart' });
  });
});
