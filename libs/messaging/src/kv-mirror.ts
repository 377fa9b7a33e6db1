import { Kvm, type KvWatchEntry } from '@nats-io/kv';
import type { Bus } from './bus.js';

/** What a mirror tells its owner; every callback runs in the watch's own order. */
export interface KvMirrorHandlers {
  /** A new watch begins: every key will be delivered again, from the bucket's state now. */
  restarted(): void;
  entry(entry: KvWatchEntry): void;
  /** Everything the bucket held when this watch began has been delivered. */
  loaded(): void;
  /** The watch could not start, ended or went stale; it is tried again after `retryMs`. */
  down(err: Error): void;
}

export interface KvMirrorTiming {
  /** Wait before watching again after the watch ended or could not start. */
  readonly retryMs: number;
  /** How often the bucket is looked up to tell a watch that went stale. */
  readonly checkMs: number;
}

/**
 * Keeps a watch of a whole KV bucket (one that others make) going for as long as the owner
 * wants it. A watch outlives a deleted bucket or a lost consumer without a word, so the bucket
 * is looked up every `checkMs`: the watch starts again (from a fresh load) when the look-up
 * fails, when the bucket is another one than the watch began on, or when the bucket holds
 * writes the watch has not delivered on two look-ups in a row.
 */
export class KvMirror {
  private stopped = false;
  private watch?: { stop(): void };
  private loop?: Promise<void>;

  constructor(
    private readonly bus: Bus,
    private readonly bucket: string,
    private readonly handlers: KvMirrorHandlers,
    private readonly timing: KvMirrorTiming,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.watch?.stop();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.watchOnce();
        if (!this.stopped) throw new Error('watch ended');
      } catch (err) {
        if (!this.stopped) this.handlers.down(err as Error);
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, this.timing.retryMs));
    }
  }

  /** One watch, from a fresh load until it ends or goes stale. */
  private async watchOnce(): Promise<void> {
    const kv = await new Kvm(this.bus.connection).open(this.bucket);
    const first = await kv.status();
    const created = first.streamInfo.created;
    const watch = await kv.watch({ key: '>' });
    this.watch = watch;
    if (this.stopped) {
      watch.stop();
      return;
    }
    this.handlers.restarted();
    let seen = 0;
    let behind = 0;
    const check = setInterval(() => {
      kv.status().then(
        (s) => {
          behind = s.streamInfo.state.last_seq > seen ? behind + 1 : 0;
          if (s.streamInfo.created !== created || behind >= 2) watch.stop();
        },
        () => watch.stop(),
      );
    }, this.timing.checkMs);
    try {
      // An empty bucket has no last value to signal the end of the initial load.
      if (first.values === 0) this.handlers.loaded();
      for await (const entry of watch) {
        seen = Math.max(seen, entry.revision);
        this.handlers.entry(entry);
        if (entry.delta === 0 || entry.isUpdate) this.handlers.loaded();
      }
    } finally {
      clearInterval(check);
      watch.stop();
    }
  }
}
