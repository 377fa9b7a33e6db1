import { VmcpError } from '@vmcp/contracts';

export interface SessionPoolOptions<S> {
  /** Closes a session that left the pool; errors are ignored. */
  readonly close: (session: S) => Promise<void> | void;
  /** A session unused this long is closed. */
  readonly idleMs: number;
  /** At most this many pooled sessions; the least recently used one goes first. */
  readonly maxSize: number;
  readonly now?: () => number;
  /** How often idle sessions are looked for; 0 turns the timer off (tests call sweep()). */
  readonly sweepEveryMs?: number;
}

/** A session lent to one operation; release it exactly once, retire it if it proved unusable. */
export interface Lease<S> {
  readonly session: S;
  release(): void;
  retire(): void;
}

interface Entry<S, T> {
  readonly key: string;
  readonly tags: T;
  readonly session: S;
  inflight: number;
  lastUsed: number;
  retired: boolean;
  closed: boolean;
}

interface Opening<S, T> {
  readonly tags: T;
  retired: boolean;
  promise: Promise<Entry<S, T>>;
}

// A session retired while it was opening is opened again; this bounds how often in a row.
const MAX_OPEN_ROUNDS = 3;

/**
 * Long-lived sessions by key: opened once on first use even when many callers ask at the
 * same moment, shared by concurrent operations, closed when idle, over the size cap, or
 * retired. A retired session leaves the pool at once (nobody new gets it) and is closed as
 * soon as the operations already holding it have finished.
 */
export class SessionPool<S, T> {
  private readonly entries = new Map<string, Entry<S, T>>();
  private readonly opening = new Map<string, Opening<S, T>>();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: SessionPoolOptions<S>) {
    this.now = options.now ?? Date.now;
    const every = options.sweepEveryMs ?? Math.min(options.idleMs, 30_000);
    if (every > 0) {
      this.timer = setInterval(() => this.sweep(), every);
      this.timer.unref();
    }
  }

  /** Pooled sessions (not counting ones being opened or retired ones still in use). */
  get size(): number {
    return this.entries.size;
  }

  /** The pooled session for the key, lent at once; undefined when it has to be opened first. */
  tryAcquire(key: string): Lease<S> | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    // Most recently used last: the first entry is the one to drop at the cap.
    this.entries.delete(key);
    this.entries.set(key, hit);
    return this.lend(hit);
  }

  /** The pooled session for the key, opened by `open` if there is none (one open for concurrent callers). */
  async acquire(key: string, tags: T, open: () => Promise<S>): Promise<Lease<S>> {
    for (let round = 0; round < MAX_OPEN_ROUNDS; round++) {
      const hit = this.tryAcquire(key);
      if (hit) return hit;
      const entry = await (this.opening.get(key) ?? this.startOpening(key, tags, open)).promise;
      if (!entry.retired) return this.lend(entry);
    }
    throw new VmcpError('UNAVAILABLE', 'the connection kept changing while its upstream session was being opened');
  }

  /** Retires every session, pooled or being opened, whose tags match. */
  retire(match: (tags: T) => boolean): void {
    for (const entry of [...this.entries.values()]) if (match(entry.tags)) this.retireEntry(entry);
    for (const [key, opening] of [...this.opening]) {
      if (!match(opening.tags)) continue;
      opening.retired = true;
      this.opening.delete(key);
    }
  }

  /** Retires sessions unused for longer than the idle time. */
  sweep(): void {
    const cutoff = this.now() - this.options.idleMs;
    for (const entry of [...this.entries.values()]) if (entry.inflight === 0 && entry.lastUsed <= cutoff) this.retireEntry(entry);
  }

  /** Closes everything now, in use or not (shutdown). */
  async closeAll(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const opening of this.opening.values()) opening.retired = true;
    this.opening.clear();
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.allSettled(
      all.map((e) => {
        e.retired = true;
        return this.closeEntry(e);
      }),
    );
  }

  private startOpening(key: string, tags: T, open: () => Promise<S>): Opening<S, T> {
    const opening: Opening<S, T> = { tags, retired: false, promise: Promise.resolve(undefined as never) };
    const settled = () => {
      if (this.opening.get(key) === opening) this.opening.delete(key);
    };
    opening.promise = open().then(
      (session) => {
        settled();
        const entry: Entry<S, T> = { key, tags, session, inflight: 0, lastUsed: this.now(), retired: opening.retired, closed: false };
        // Retired while opening (the account or connection changed): it was never pooled.
        if (entry.retired) void this.closeEntry(entry);
        else this.insert(entry);
        return entry;
      },
      (err: unknown) => {
        settled();
        throw err;
      },
    );
    this.opening.set(key, opening);
    return opening;
  }

  private insert(entry: Entry<S, T>): void {
    while (this.entries.size >= this.options.maxSize) {
      const oldest = this.entries.values().next().value;
      if (!oldest) break;
      this.retireEntry(oldest);
    }
    this.entries.set(entry.key, entry);
  }

  private lend(entry: Entry<S, T>): Lease<S> {
    entry.inflight++;
    let released = false;
    return {
      session: entry.session,
      release: () => {
        if (released) return;
        released = true;
        entry.inflight--;
        entry.lastUsed = this.now();
        if (entry.retired && entry.inflight === 0) void this.closeEntry(entry);
      },
      retire: () => this.retireEntry(entry),
    };
  }

  private retireEntry(entry: Entry<S, T>): void {
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    if (entry.retired) return;
    entry.retired = true;
    if (entry.inflight === 0) void this.closeEntry(entry);
  }

  private async closeEntry(entry: Entry<S, T>): Promise<void> {
    if (entry.closed) return;
    entry.closed = true;
    try {
      await this.options.close(entry.session);
    } catch {
      // A session that fails to close is gone all the same.
    }
  }
}
