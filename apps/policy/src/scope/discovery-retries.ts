import type { ConnectionTarget } from '@vmcp/contracts';

/** The first background retry of a failed discovery comes after 1 s, then 2, 4, … at most a minute apart (±20 %). */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 60_000;
const JITTER = 0.2;
/** A pair still failing half an hour after the failure that started its retries is left to the next tools/list or call. */
const RETRY_GIVE_UP_MS = 30 * 60_000;
/** Pairs retried at once: per tenant (one tenant's dead upstream with many users cannot crowd out the others), and in all. */
const MAX_PAIRS_PER_TENANT = 100;
const MAX_PAIRS = 5_000;
/**
 * Within this long of a discovery that failed slowly (a timeout, a proxy's late 5xx), a
 * lookup fails at once with the same error instead of waiting on the upstream again. A
 * failure that came fast is tried again at once: it costs no waiting, and the next call
 * works as soon as the cause (the vault restarting, a refused connection) is gone.
 */
const FAIL_FAST_MS = 5_000;
/** A failed discovery that took at least this long is a slow one. */
const SLOW_FAILURE_MS = 1_000;
/** Recoveries of one tenant this close together make one change mark. */
const MARK_COALESCE_MS = 250;

/** What a retry discovers again: one connection's tools under one account. */
export interface DiscoveryTarget {
  readonly tenantId: string;
  readonly connection: ConnectionTarget;
  readonly accountId: string | null;
}

interface Failure {
  readonly target: DiscoveryTarget;
  /** When the failure that started these retries happened. */
  readonly since: number;
  readonly failedAt: number;
  /** It took SLOW_FAILURE_MS or more: lookups fail fast for a while. */
  readonly slow: boolean;
  readonly error: unknown;
  readonly delayMs: number;
  readonly timer: NodeJS.Timeout;
}

export interface DiscoveryRetriesOptions {
  /** Discovers the target again, bypassing the fail-fast window; its outcome comes back through `failed` or `succeeded`. */
  readonly probe: (target: DiscoveryTarget) => void;
  /** The tenant's lists missed tools that are now back: every edge should list again. */
  readonly mark: (tenantId: string) => void;
  /** A pair that had failed works again (counted). */
  readonly recovered?: () => void;
  readonly random?: () => number;
}

/**
 * The failed (connection, account) discoveries of one policy replica and their background
 * retries: backoff with jitter, bounded per tenant and in all, a short fail-fast window after a slow failure, and
 * one change mark per tenant for recoveries that come together (the other failed accounts
 * of a connection that works again are retried at once).
 */
export class DiscoveryRetries {
  private readonly failures = new Map<string, Failure>();
  private readonly perTenant = new Map<string, number>();
  private readonly marks = new Map<string, NodeJS.Timeout>();
  private readonly random: () => number;
  private closed = false;

  constructor(private readonly options: DiscoveryRetriesOptions) {
    this.random = options.random ?? Math.random;
  }

  get size(): number {
    return this.failures.size;
  }

  /** The error of a recent slow failure, while the upstream is not asked again yet. */
  recentSlowFailure(key: string): { error: unknown } | undefined {
    const f = this.failures.get(key);
    return f?.slow && Date.now() - f.failedAt < FAIL_FAST_MS ? { error: f.error } : undefined;
  }

  /** `tookMs`: how long the failed discovery took. */
  failed(key: string, target: DiscoveryTarget, error: unknown, tookMs: number): void {
    if (this.closed) return;
    const previous = this.failures.get(key);
    if (previous) {
      clearTimeout(previous.timer);
      if (Date.now() - previous.since > RETRY_GIVE_UP_MS) {
        this.forget(key);
        return;
      }
    } else if (this.failures.size >= MAX_PAIRS || (this.perTenant.get(target.tenantId) ?? 0) >= MAX_PAIRS_PER_TENANT) {
      return;
    }
    const delayMs = previous ? Math.min(RETRY_MAX_MS, previous.delayMs * 2) : RETRY_FIRST_MS;
    const timer = this.probeAfter(target, Math.round(delayMs * (1 - JITTER + 2 * JITTER * this.random())));
    if (!previous) this.perTenant.set(target.tenantId, (this.perTenant.get(target.tenantId) ?? 0) + 1);
    this.failures.set(key, { target, since: previous?.since ?? Date.now(), failedAt: Date.now(), slow: tookMs >= SLOW_FAILURE_MS, error, delayMs, timer });
  }

  /** A discovery worked: a pair that had failed is done, its tenant marked, and its connection's other failed accounts tried now. */
  succeeded(key: string): void {
    const failure = this.failures.get(key);
    if (!failure) return;
    this.forget(key);
    this.options.recovered?.();
    const { tenantId, connection } = failure.target;
    if (!this.marks.has(tenantId)) {
      const timer = setTimeout(() => {
        this.marks.delete(tenantId);
        this.options.mark(tenantId);
      }, MARK_COALESCE_MS);
      timer.unref();
      this.marks.set(tenantId, timer);
    }
    for (const [other, f] of this.failures) {
      if (f.target.tenantId !== tenantId || f.target.connection.id !== connection.id) continue;
      clearTimeout(f.timer);
      this.failures.set(other, { ...f, timer: this.probeAfter(f.target, 0) });
    }
  }

  private probeAfter(target: DiscoveryTarget, delayMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.options.probe(target), delayMs);
    timer.unref();
    return timer;
  }

  /** Stops retrying what matches (its account or connection changed: the next lookup discovers afresh). */
  drop(match: (connectionId: string, accountId: string | null) => boolean): void {
    for (const [key, f] of this.failures) if (match(f.target.connection.id, f.target.accountId)) this.forget(key);
  }

  close(): void {
    this.closed = true;
    for (const key of [...this.failures.keys()]) this.forget(key);
    for (const timer of this.marks.values()) clearTimeout(timer);
    this.marks.clear();
  }

  private forget(key: string): void {
    const f = this.failures.get(key);
    if (!f) return;
    clearTimeout(f.timer);
    this.failures.delete(key);
    const left = (this.perTenant.get(f.target.tenantId) ?? 1) - 1;
    if (left > 0) this.perTenant.set(f.target.tenantId, left);
    else this.perTenant.delete(f.target.tenantId);
  }
}

/** The catalog's key of a (connection, account) pair. */
export function keyOf(target: Pick<DiscoveryTarget, 'connection' | 'accountId'>): string {
  return `${target.connection.id}|${target.accountId ?? ''}`;
}
