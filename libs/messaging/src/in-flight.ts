/**
 * Counts the requests a responder is handling, so that its shutdown can wait until each
 * one has replied instead of guessing a fixed grace period.
 */
export class InFlight {
  private count = 0;
  private readonly idleWaiters = new Set<() => void>();

  get size(): number {
    return this.count;
  }

  /** One more request in flight; the returned function ends it (a second call does nothing). */
  begin(): () => void {
    this.count++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.count--;
      if (this.count === 0) for (const wake of [...this.idleWaiters]) wake();
    };
  }

  /** Resolves true once nothing is in flight, or false when `timeoutMs` passes first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (idle: boolean) => {
        clearTimeout(timer);
        this.idleWaiters.delete(wake);
        resolve(idle);
      };
      const wake = () => finish(true);
      // Not unref'd: a shutdown waiting here must keep the process alive.
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.idleWaiters.add(wake);
    });
  }
}
