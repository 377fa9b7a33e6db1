import { afterEach, describe, expect, it, vi } from 'vitest';
import { InFlight } from './in-flight.js';

describe('InFlight', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is idle at once when nothing runs', async () => {
    await expect(new InFlight().idle(1000)).resolves.toBe(true);
  });

  it('becomes idle when the last request ends, not before; ending one twice counts once', async () => {
    const inFlight = new InFlight();
    const first = inFlight.begin();
    const second = inFlight.begin();
    let idle: boolean | undefined;
    void inFlight.idle(60_000).then((v) => (idle = v));
    first();
    first();
    await Promise.resolve();
    expect(inFlight.size).toBe(1);
    expect(idle).toBeUndefined();
    second();
    await vi.waitFor(() => expect(idle).toBe(true));
    expect(inFlight.size).toBe(0);
  });

  it('gives up after the bound when a request never ends, and a later end still counts', async () => {
    vi.useFakeTimers();
    const inFlight = new InFlight();
    const stuck = inFlight.begin();
    const idle = inFlight.idle(5000);
    await vi.advanceTimersByTimeAsync(4999);
    let settled = false;
    void idle.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(idle).resolves.toBe(false);
    stuck();
    expect(inFlight.size).toBe(0);
    await expect(inFlight.idle(5000)).resolves.toBe(true);
  });
});
