/** How long a cancellation that arrived before its call is remembered. */
const EARLY_CANCEL_TTL_MS = 60_000;
/** At most this many early cancellations are remembered; the oldest go first. */
const MAX_EARLY_CANCELS = 10_000;

/**
 * The calls this executor runs right now, by execution id, so a cancellation (a broadcast
 * every replica hears) can stop the one it names. A cancellation may arrive before its
 * call does (they travel on different connections): it is remembered for a while, and
 * that call starts already aborted.
 */
export class RunningCalls {
  private readonly running = new Map<string, AbortController>();
  private readonly early = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Registers a call; `done` must be called when it settles. */
  start(executionId: string): { signal: AbortSignal; done: () => void } {
    const controller = new AbortController();
    const cancelledAt = this.early.get(executionId);
    if (cancelledAt !== undefined) {
      this.early.delete(executionId);
      if (this.now() - cancelledAt < EARLY_CANCEL_TTL_MS) controller.abort();
    }
    this.running.set(executionId, controller);
    return {
      signal: controller.signal,
      done: () => {
        if (this.running.get(executionId) === controller) this.running.delete(executionId);
      },
    };
  }

  /** Aborts the call if it runs here, or remembers the cancellation for a call not here yet. */
  cancel(executionId: string): boolean {
    const controller = this.running.get(executionId);
    if (controller) {
      controller.abort();
      return true;
    }
    this.rememberEarly(executionId);
    return false;
  }

  get size(): number {
    return this.running.size;
  }

  private rememberEarly(executionId: string): void {
    const now = this.now();
    // Most cancellations are for calls another replica runs: keep the memory bounded.
    for (const [id, at] of this.early) {
      if (this.early.size < MAX_EARLY_CANCELS && now - at < EARLY_CANCEL_TTL_MS) break;
      this.early.delete(id);
    }
    this.early.set(executionId, now);
  }
}
