import { describe, expect, it } from 'vitest';
import { RunningCalls } from './running-calls.js';

describe('RunningCalls', () => {
  it('aborts only the named call, and forgets a call once it is done', () => {
    const calls = new RunningCalls();
    const a = calls.start('exe_a');
    const b = calls.start('exe_b');
    expect(calls.cancel('exe_a')).toBe(true);
    expect(a.signal.aborted).toBe(true);
    expect(b.signal.aborted).toBe(false);
    a.done();
    b.done();
    expect(calls.size).toBe(0);
  });

  it('starts a call already aborted when its cancellation arrived first, but not after the memory expired', () => {
    let now = 1_000_000;
    const calls = new RunningCalls(() => now);
    expect(calls.cancel('exe_early')).toBe(false);
    expect(calls.start('exe_early').signal.aborted).toBe(true);
    // Remembered once: a retry under the same id is not cancelled again.
    expect(calls.start('exe_early').signal.aborted).toBe(false);

    calls.cancel('exe_late');
    now += 61_000;
    expect(calls.start('exe_late').signal.aborted).toBe(false);
  });
});
