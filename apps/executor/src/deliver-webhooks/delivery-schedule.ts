/** How long and how often one event is retried (VMCP_WEBHOOK_* settings). */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly maxAgeMs: number;
}

/** What one attempt got: an HTTP status, or no answer at all (refused, reset, timed out). */
export type AttemptResult = { readonly kind: 'status'; readonly status: number } | { readonly kind: 'error'; readonly reason: string };

export type NextStep =
  | { readonly action: 'ack'; readonly outcome: 'delivered' }
  | { readonly action: 'term'; readonly outcome: 'gone' | 'exhausted' }
  | { readonly action: 'retry'; readonly delayMs: number };

/** Delay after the n-th failed attempt (n >= 1): doubling from the base, capped. */
export function retryDelayMs(attempt: number, policy: RetryPolicy): number {
  return Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** Math.min(attempt - 1, 30));
}

/**
 * What to do after an attempt: 2xx is delivered; 410 Gone means the receiver wants no
 * more, so it is not retried; anything else (other statuses, redirects, no answer) is
 * retried with exponential backoff until the attempts or the event's age run out.
 */
export function nextStep(result: AttemptResult, attempt: number, ageMs: number, policy: RetryPolicy): NextStep {
  if (result.kind === 'status' && result.status >= 200 && result.status < 300) return { action: 'ack', outcome: 'delivered' };
  if (result.kind === 'status' && result.status === 410) return { action: 'term', outcome: 'gone' };
  const delayMs = retryDelayMs(attempt, policy);
  if (attempt >= policy.maxAttempts || ageMs + delayMs > policy.maxAgeMs) return { action: 'term', outcome: 'exhausted' };
  return { action: 'retry', delayMs };
}
