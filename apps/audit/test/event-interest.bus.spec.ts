import { Kvm } from '@nats-io/kv';
import { Bus, markToolCallInterest, openEventInterest, ToolCallInterest } from '@vmcp/messaging';
import { startNatsServer, uniqueName, waitFor, type NatsServerHandle } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The event-interest bucket, as the audit service sees it: tool-call events are published for
// marked tenants only, and for every tenant while the marks are not known (before the first
// load, while NATS or the bucket is away), so an outage never loses an event someone reads.
// (The service looks the bucket up every 5 s; these watchers every 100 ms.)

describe('tool-call event interest', () => {
  let nats: NatsServerHandle;
  let bus: Bus;

  beforeAll(async () => {
    nats = await startNatsServer();
    bus = await Bus.connect({ url: nats.url, name: 'interest-test', timeoutMs: 3000 });
  });

  afterAll(async () => {
    await bus?.close();
    await nats?.stop();
  });

  const watching = async (bucket: string) => {
    const interest = new ToolCallInterest(bus, bucket, () => undefined, { retryMs: 50, checkMs: 100 });
    interest.start();
    await waitFor(() => interest.isLive(), { what: 'the marks loaded' });
    return interest;
  };

  it('wants every tenant until the marks are loaded, then the marked ones, a new mark within moments', async () => {
    const bucket = uniqueName('interest_');
    const kv = await openEventInterest(bus, bucket);
    await markToolCallInterest(kv, 'ten_marked1');
    const interest = new ToolCallInterest(bus, bucket, () => undefined, { retryMs: 50, checkMs: 100 });
    expect(interest.wants('ten_anyone')).toBe(true);
    interest.start();
    await waitFor(() => interest.isLive(), { what: 'the marks loaded' });
    expect(interest.wants('ten_marked1')).toBe(true);
    expect(interest.wants('ten_other')).toBe(false);
    await markToolCallInterest(kv, 'ten_other');
    await waitFor(() => interest.wants('ten_other'), { what: 'the new mark' });
    await interest.close();
  });

  it('wants every tenant while its bucket is gone, and the marks again once it is back', async () => {
    const bucket = uniqueName('interest_');
    const interest = await watching(bucket);
    expect(interest.wants('ten_x')).toBe(false);
    await (await new Kvm(bus.connection).open(bucket)).destroy();
    await waitFor(() => interest.wants('ten_x'), { what: 'fail open without the bucket' });
    // The watcher makes the bucket again (empty) and answers from it.
    await waitFor(() => interest.isLive() && !interest.wants('ten_x'), { what: 'live again' });
    await markToolCallInterest(await openEventInterest(bus, bucket), 'ten_x');
    await waitFor(() => interest.wants('ten_x'), { what: 'the mark after the gap' });
    await interest.close();
  });

  it('wants every tenant while NATS is down, and only the marked ones after it is back', async () => {
    const bucket = uniqueName('interest_');
    const interest = await watching(bucket);
    await markToolCallInterest(await openEventInterest(bus, bucket), 'ten_kept');
    await waitFor(() => interest.wants('ten_kept'));
    expect(interest.wants('ten_y')).toBe(false);
    await nats.halt();
    await waitFor(() => interest.wants('ten_y'), { what: 'fail open while NATS is down', timeoutMs: 15_000 });
    await nats.restart();
    await waitFor(() => interest.isLive() && !interest.wants('ten_y'), { what: 'live after the restart', timeoutMs: 20_000 });
    expect(interest.wants('ten_kept')).toBe(true);
    await interest.close();
  });
});
