import { VmcpApiError, VmcpConnectionError, VmcpTimeoutError } from './errors.js';

/**
 * Statuses that say "try again shortly": rate limited, or the edge (or a proxy in front
 * of it) could not answer this time.
 */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/**
 * Methods the API keeps idempotent: sending one twice leaves the same state as sending it
 * once. A POST that timed out may have been applied, so it is never sent again.
 */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['get', 'put', 'delete']);

/** First backoff step; each further step doubles it. */
const BASE_DELAY_MS = 250;
/** Largest backoff step. */
const MAX_DELAY_MS = 5_000;
/** The longest wait a `Retry-After` may ask for; beyond it the call fails at once instead of hanging. */
export const MAX_RETRY_AFTER_MS = 30_000;

/**
 * A `Retry-After` value in milliseconds (RFC 9110 §10.2.3): delay-seconds or an HTTP
 * date. Undefined when absent or unreadable; a date in the past is 0.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date always names a weekday; this keeps "1.5" or "soon" from parsing as a date.
  if (!/^[A-Za-z]{3},/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * How long to wait before retry number `retry` (1 for the first): what the server asked
 * for, or full-jitter exponential backoff so that many clients do not come back in step.
 * Undefined when the server asks for longer than MAX_RETRY_AFTER_MS.
 */
export function retryDelay(retry: number, retryAfterMs: number | undefined, random: () => number = Math.random): number | undefined {
  if (retryAfterMs !== undefined) return retryAfterMs <= MAX_RETRY_AFTER_MS ? retryAfterMs : undefined;
  return Math.floor(random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (retry - 1)));
}

/**
 * How long to wait before retry number `retry` after `err`, or undefined when the failure
 * is not worth repeating: a retryable status (by code over NATS), a timeout or no connection.
 * Both transports decide with it, so they retry alike; only idempotent calls ask.
 */
export function retryDelayAfter(err: unknown, retry: number): number | undefined {
  if (err instanceof VmcpApiError) return RETRYABLE_STATUSES.has(err.status) ? retryDelay(retry, err.retryAfterMs) : undefined;
  if (err instanceof VmcpTimeoutError || err instanceof VmcpConnectionError) return retryDelay(retry, undefined);
  return undefined;
}
