import type { Bus } from '@vmcp/messaging';
import { describe, expect, it, vi } from 'vitest';
import { InFlightCalls } from './in-flight-calls.service.js';
import { keyOf } from './mcp-sessions.service.js';

const S1 = keyOf('session-one');
const S2 = keyOf('session-two');

/** The service on a bus that hands the test the cancellation handler (what every replica hears). */
function inFlight() {
  let heard: (e: { key: string; request_id: string | number }) => void = () => undefined;
  const bus = {
    subscribe: vi.fn((_event: unknown, handler: typeof heard) => {
      heard = handler;
      return { unsubscribe: vi.fn() };
    }),
    publish: vi.fn(),
  };
  const calls = new InFlightCalls(bus as unknown as Bus);
  calls.onModuleInit();
  return { calls, bus, hear: (key: string, requestId: string | number) => heard({ key, request_id: requestId }) };
}

describe('InFlightCalls', () => {
  it('aborts the call a cancellation names, by session and id (1 and "1" apart), and no other', () => {
    const { calls, hear } = inFlight();
    const one = calls.track(S1, 1);
    const oneAsText = calls.track(S1, '1');
    const otherSession = calls.track(S2, 1);
    hear(S1, 1);
    expect(one.signal.aborted).toBe(true);
    expect(oneAsText.signal.aborted).toBe(false);
    expect(otherSession.signal.aborted).toBe(false);
  });

  it('aborts the call when the signal it is given aborts (the client gone), with its reason', () => {
    const { calls } = inFlight();
    const closed = new AbortController();
    const call = calls.track(S1, 7, closed.signal);
    expect(call.signal.aborted).toBe(false);
    closed.abort(new Error('client went away'));
    expect(call.signal.aborted).toBe(true);
    expect((call.signal.reason as Error).message).toBe('client went away');
  });

  it('starts aborted when that signal already is', () => {
    const { calls } = inFlight();
    expect(calls.track(S1, 7, AbortSignal.abort()).signal.aborted).toBe(true);
  });

  it('forgets a settled call: a later cancellation or client close does not reach it, and nothing is held', () => {
    const { calls, hear } = inFlight();
    const closed = new AbortController();
    const call = calls.track(S1, 3, closed.signal);
    call.done();
    hear(S1, 3);
    closed.abort();
    expect(call.signal.aborted).toBe(false);
    expect(calls.size).toBe(0);
  });

  it('publishes an agent’s cancellation for every replica, and ignores a malformed id', () => {
    const { calls, bus } = inFlight();
    calls.cancel(S1, 4);
    calls.cancel(S1, { not: 'an id' });
    expect(bus.publish).toHaveBeenCalledOnce();
    expect(bus.publish.mock.calls[0]?.[1]).toEqual({ key: S1, request_id: 4 });
  });
});
