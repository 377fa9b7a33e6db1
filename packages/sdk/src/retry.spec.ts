import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, parseRetryAfter, retryDelay } from './retry.js';

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:02 GMT', now)).toBe(2000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0);
    for (const junk of [null, '', '1.5', '-1', 'soon']) expect(parseRetryAfter(junk, now), String(junk)).toBeUndefined();
  });
});

describe('retryDelay', () => {
  it('backs off exponentially with full jitter, capped', () => {
    expect([1, 2, 3, 10].map((retry) => retryDelay(retry, undefined, () => 0.999))).toEqual([249, 499, 999, 4995]);
    expect(retryDelay(3, undefined, () => 0)).toBe(0);
  });

  it('takes what the server asked for, unless it is too long to wait', () => {
    expect(retryDelay(1, 1000)).toBe(1000);
    expect(retryDelay(1, MAX_RETRY_AFTER_MS + 1)).toBeUndefined();
  });
});
