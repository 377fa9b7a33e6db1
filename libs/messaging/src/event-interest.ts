import type { KV } from '@nats-io/kv';
import type { Bus } from './bus.js';
import { ensureBucket } from './streams.js';

/**
 * Which tenants read their tool-call events. Two per call on every call would double the
 * events stream's traffic and storage (and its consumers' work) for tenants that never
 * read them, so the audit service publishes `tool_call.*` events only for tenants marked
 * here: one that set a webhook taking them (policy marks it) or pulled a bus API cursor
 * taking them (the edge marks it). A mark is kept for good: events flow from the first
 * subscription on, whatever comes and goes after it.
 *
 * Keys: `tool_calls.<tenant_id>`, the value the time of the latest mark.
 */
const TOOL_CALLS_PREFIX = 'tool_calls.';

const TOOL_CALL_EVENT_PREFIX = 'tool_call.';

/** Whether a subscription to `types` (none: every type, `*` included) takes any tool-call event. */
export function takesToolCallEvents(types: readonly string[] | undefined): boolean {
  return !types || types.length === 0 || types.some((t) => t === '*' || t.startsWith(TOOL_CALL_EVENT_PREFIX));
}

/** Opens (making it when missing) the bucket; no TTL, one value per key. */
export function openEventInterest(bus: Bus, bucket: string): Promise<KV> {
  return ensureBucket(bus, bucket, { history: 1, ttl: 0 });
}

/** Marks the tenant as reading its tool-call events; resolves once the mark is stored. Marking again is harmless. */
export async function markToolCallInterest(kv: KV, tenantId: string): Promise<void> {
  await kv.put(`${TOOL_CALLS_PREFIX}${tenantId}`, new Date().toISOString());
}

/**
 * The audit service's view of the marks: a watch of the bucket, so a new mark is seen within
 * milliseconds. Until the watch has loaded the marks, and whenever it is down, every tenant
 * counts as interested: an event too many costs a little, one too few is lost for good.
 * A watch outlives a deleted bucket or a lost connection without a word, so the bucket is
 * looked up every `checkMs`: a failed look-up starts the watch again from a fresh load.
 */
export class ToolCallInterest {
  private readonly tenants = new Set<string>();
  private live = false;
  private stopped = false;
  private watch?: { stop(): void };
  private loop?: Promise<void>;

  constructor(
    private readonly bus: Bus,
    private readonly bucket: string,
    private readonly onError: (err: Error) => void = () => undefined,
    private readonly timing: { readonly retryMs: number; readonly checkMs: number } = { retryMs: 250, checkMs: 5000 },
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Whether the tenant's tool-call events are published. */
  wants(tenantId: string): boolean {
    return !this.live || this.tenants.has(tenantId);
  }

  /** The marks are loaded and the watch is up: `wants` answers from them. */
  isLive(): boolean {
    return this.live;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const kv = await openEventInterest(this.bus, this.bucket);
        const watch = await kv.watch({ key: `${TOOL_CALLS_PREFIX}>` });
        this.watch = watch;
        this.tenants.clear();
        const check = setInterval(() => void kv.status().catch(() => watch.stop()), this.timing.checkMs);
        try {
          // An empty bucket has no last value to signal the end of the initial load.
          if ((await kv.status()).values === 0) this.live = true;
          for await (const entry of watch) {
            const tenantId = entry.key.slice(TOOL_CALLS_PREFIX.length);
            if (entry.operation === 'PUT') this.tenants.add(tenantId);
            else this.tenants.delete(tenantId);
            if (entry.delta === 0 || entry.isUpdate) this.live = true;
          }
        } finally {
          clearInterval(check);
        }
      } catch (err) {
        if (!this.stopped) this.onError(err as Error);
      }
      // The watch ended (the bucket went away, NATS is unreachable): interested until it is back.
      this.live = false;
      if (!this.stopped) await new Promise((r) => setTimeout(r, this.timing.retryMs));
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.watch?.stop();
    await this.loop;
  }
}
