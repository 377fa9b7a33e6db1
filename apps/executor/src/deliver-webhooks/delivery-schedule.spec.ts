import { describe, expect, it } from 'vitest';
import { nextStep, retryDelayMs, type RetryPolicy } from './delivery-schedule.js';

const policy: RetryPolicy = { maxAttempts: 5, retryBaseMs: 1000, retryMaxMs: 10_000, maxAgeMs: 3_600_000 };
const status = (s: number) => ({ kind: 'status', status: s }) as const;

describe('webhook delivery schedule', () => {
  it('acknowledges any 2xx', () => {
    for (const s of [200, 201, 202, 204, 299]) expect(nextStep(status(s), 1, 0, policy)).toEqual({ action: 'ack', outcome: 'delivered' });
  });

  it('gives up at once on 410 Gone, whatever the attempt', () => {
    expect(nextStep(status(410), 1, 0, policy)).toEqual({ action: 'term', outcome: 'gone' });
  });

  it('retries other statuses, redirects and no answer, doubling the delay up to the cap', () => {
    expect(nextStep(status(500), 1, 0, policy)).toEqual({ action: 'retry', delayMs: 1000 });
    expect(nextStep(status(302), 2, 0, policy)).toEqual({ action: 'retry', delayMs: 2000 });
    expect(nextStep(status(429), 3, 0, policy)).toEqual({ action: 'retry', delayMs: 4000 });
    expect(nextStep({ kind: 'error', reason: 'timeout' }, 4, 0, policy)).toEqual({ action: 'retry', delayMs: 8000 });
    expect(retryDelayMs(5, policy)).toBe(10_000);
    expect(retryDelayMs(1000, policy)).toBe(10_000);
  });

  it('stops after the last attempt, or when the next one would be too late', () => {
    expect(nextStep(status(500), 5, 0, policy)).toEqual({ action: 'term', outcome: 'exhausted' });
    expect(nextStep(status(503), 2, 3_599_000, policy)).toEqual({ action: 'term', outcome: 'exhausted' });
    expect(nextStep(status(200), 5, 4_000_000, policy)).toEqual({ action: 'ack', outcome: 'delivered' });
  });
});
