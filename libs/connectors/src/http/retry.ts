/** How a provider request is repeated after a transient failure. */
export interface RetryPolicy {
  /** Attempts in all, the first included (default 3). */
  readonly maxAttempts: number;
  /** First backoff step; each further step doubles it (default 250 ms). */
  readonly baseDelayMs: number;
  /** Largest backoff step (default 5 s). */
  readonly maxDelayMs: number;
  /** The longest wait a provider's `Retry-After` may ask for; beyond it the call fails at once (default 30 s). */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 5_000, maxRetryAfterMs: 30_000 };

/** No retry is started with less time than this left for the attempt itself. */
export const MIN_ATTEMPT_MS = 100;

/**
 * A `Retry-After` value in milliseconds (RFC 9110 §10.2.3): delay-seconds or an HTTP
 * date. Undefined when absent or unreadable; a date in the past is 0.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date always names a weekday; this keeps "12.5" or "soon" from parsing as dates.
  if (!/^[A-Za-z]{3},/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Full-jitter exponential backoff: a random wait up to base × 2^retry, capped. `retry` counts from 0. */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/**
 * How long to wait before the next attempt, or undefined when there must be none: the
 * attempts are used up, the provider asks for a longer wait than the policy allows, or the
 * wait would leave the attempt less than MIN_ATTEMPT_MS before the deadline.
 */
export function retryDelay(input: {
  /** Attempts made so far (1 after the first). */
  readonly attempts: number;
  /** What the provider asked for (Retry-After or its own rate-limit headers), if anything. */
  readonly retryAfterMs: number | undefined;
  readonly remainingMs: number;
  readonly policy: RetryPolicy;
  readonly random?: () => number;
}): number | undefined {
  const { attempts, retryAfterMs, remainingMs, policy } = input;
  if (attempts >= policy.maxAttempts) return undefined;
  if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) return undefined;
  const delay = retryAfterMs ?? backoffDelay(attempts - 1, policy, input.random);
  return delay + MIN_ATTEMPT_MS <= remainingMs ? delay : undefined;
}
