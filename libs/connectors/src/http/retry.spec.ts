import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RETRY_POLICY, MIN_ATTEMPT_MS, parseRetryAfter, retryDelay } from './retry.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
  });

  it('reads an HTTP date, a past one as 0', () => {
    expect(parseRetryAfter('Sat, 01 Mar 2025 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Sat, 01 Mar 2025 11:00:00 GMT', now)).toBe(0);
  });

  it('ignores what is neither', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('2025-03-01', now)).toBeUndefined();
  });
});

describe('backoff', () => {
  const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };

  it('doubles the ceiling per retry up to the cap, with full jitter', () => {
    expect(backoffDelay(0, policy, () => 0.999)).toBe(99);
    expect(backoffDelay(1, policy, () => 0.999)).toBe(199);
    expect(backoffDelay(3, policy, () => 0.999)).toBe(799);
    expect(backoffDelay(10, policy, () => 0.999)).toBe(999);
    expect(backoffDelay(2, policy, () => 0)).toBe(0);
  });

  it('stops after the last attempt', () => {
    expect(retryDelay({ attempts: 2, retryAfterMs: undefined, remainingMs: 60_000, policy: { ...policy, maxAttempts: 3 }, random: () => 0.5 })).toBe(100);
    expect(retryDelay({ attempts: 3, retryAfterMs: undefined, remainingMs: 60_000, policy: { ...policy, maxAttempts: 3 } })).toBeUndefined();
  });

  it('follows Retry-After, unless it asks for more than the policy or the deadline allows', () => {
    expect(retryDelay({ attempts: 1, retryAfterMs: 2000, remainingMs: 60_000, policy })).toBe(2000);
    expect(retryDelay({ attempts: 1, retryAfterMs: 0, remainingMs: 60_000, policy })).toBe(0);
    expect(retryDelay({ attempts: 1, retryAfterMs: 31_000, remainingMs: 60_000, policy })).toBeUndefined();
    // The wait must leave the next attempt some time of its own.
    expect(retryDelay({ attempts: 1, retryAfterMs: 2000, remainingMs: 2000 + MIN_ATTEMPT_MS, policy })).toBe(2000);
    expect(retryDelay({ attempts: 1, retryAfterMs: 2000, remainingMs: 2000 + MIN_ATTEMPT_MS - 1, policy })).toBeUndefined();
  });

  it('bounds the backoff by the deadline', () => {
    expect(retryDelay({ attempts: 2, retryAfterMs: undefined, remainingMs: 150, policy, random: () => 0.999 })).toBeUndefined();
    expect(retryDelay({ attempts: 2, retryAfterMs: undefined, remainingMs: 150, policy, random: () => 0.1 })).toBe(20);
  });
});
