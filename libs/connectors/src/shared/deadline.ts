/** Why an operation stopped waiting: its time was up, or its caller cancelled it. */
export class StoppedError extends Error {
  constructor(readonly reason: 'deadline' | 'cancelled') {
    super(reason === 'deadline' ? 'deadline exceeded' : 'cancelled');
    this.name = 'StoppedError';
  }
}

/** The end of an operation's time budget, shared by every step of it. */
export class Deadline {
  private constructor(
    readonly at: number,
    readonly budgetMs: number,
    readonly signal: AbortSignal | undefined,
  ) {}

  static after(ms: number, signal?: AbortSignal): Deadline {
    return new Deadline(Date.now() + ms, ms, signal);
  }

  /** Milliseconds left, at least 1 so a last step still gets to fail by itself. */
  remaining(): number {
    return Math.max(1, this.at - Date.now());
  }

  /** Throws StoppedError if the time is up or the caller cancelled. */
  check(): void {
    if (this.signal?.aborted) throw new StoppedError('cancelled');
    if (Date.now() >= this.at) throw new StoppedError('deadline');
  }

  /**
   * Waits for `work` until the deadline or the caller's cancellation. What `work` yields
   * after we stopped waiting goes to `late` (for example a lease to give back).
   */
  async race<T>(work: Promise<T>, late?: (value: T) => void): Promise<T> {
    this.check();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    let stopped = false;
    const stop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoppedError('deadline')), this.remaining());
      onAbort = () => reject(new StoppedError('cancelled'));
      this.signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([work, stop]);
    } catch (err) {
      stopped = err instanceof StoppedError;
      throw err;
    } finally {
      clearTimeout(timer);
      if (onAbort) this.signal?.removeEventListener('abort', onAbort);
      if (stopped && late) work.then(late, () => undefined);
      // Whatever happens to `work` later is somebody else's business, not an unhandled rejection.
      work.catch(() => undefined);
    }
  }
}
