import type { KV } from '@nats-io/kv';
import type { Logger } from '@vmcp/telemetry';
import type { Bus } from './bus.js';
import { KvMirror, type KvMirrorTiming } from './kv-mirror.js';
import { ensureBucket } from './streams.js';

/**
 * Which tenants read their tool-call events. Two per call on every call would double the
 * events stream's traffic and storage (and its consumers' work) for tenants that never
 * read them, so the audit service publishes `tool_call.*` events only for tenants marked
 * here: one that set a webhook taking them (policy marks it) or pulled a bus API cursor
 * taking them (the edge marks it). A mark is kept for good: events flow from the first
 * subscription on, whatever comes and goes after it.
 *
 * Keys: `tool_calls.<tenant_id>` (the value is the time of the latest mark), and one
 * `ready.<writer>` per writer (policy, edge), put after that writer has marked every tenant
 * its own records say reads them (at its start, and again every few minutes). The marks
 * are trusted only while every writer's ready key is there: a bucket that is new, or lost
 * and made again by one mark, holds only some of them.
 */
const TOOL_CALLS_PREFIX = 'tool_calls.';
const READY_PREFIX = 'ready.';
export const EVENT_INTEREST_WRITERS = ['policy', 'edge'] as const;
export type EventInterestWriterName = (typeof EVENT_INTEREST_WRITERS)[number];
/** How often each writer marks its tenants again and renews its ready key. */
export const EVENT_INTEREST_REMARK_MS = 10 * 60 * 1000;

const TOOL_CALL_EVENT_PREFIX = 'tool_call.';

/** Whether a subscription to `types` (none: every type, `*` included) takes any tool-call event. */
export function takesToolCallEvents(types: readonly string[] | undefined): boolean {
  return !types || types.length === 0 || types.some((t) => t === '*' || t.startsWith(TOOL_CALL_EVENT_PREFIX));
}

/** Opens (making it when missing) the bucket, for its writers; no TTL, one value per key. */
export function openEventInterest(bus: Bus, bucket: string): Promise<KV> {
  return ensureBucket(bus, bucket, { history: 1, ttl: 0 });
}

/** Marks the tenant as reading its tool-call events; resolves once the mark is stored. Marking again is harmless. */
export async function markToolCallInterest(kv: KV, tenantId: string): Promise<void> {
  await kv.put(`${TOOL_CALLS_PREFIX}${tenantId}`, new Date().toISOString());
}

/** Says the writer has marked every tenant it knows of (after its start-up or periodic pass). */
export async function markWriterReady(kv: KV, writer: EventInterestWriterName): Promise<void> {
  await kv.put(`${READY_PREFIX}${writer}`, new Date().toISOString());
}

/** After a failed pass over a writer's tenants, the next one comes this much sooner. */
const REMARK_RETRY_MS = 5000;

/**
 * One writer's side of the bucket (policy for webhooks, the edge for event cursors): marks a
 * tenant as it subscribes, and at start and every EVENT_INTEREST_REMARK_MS (sooner after a
 * failure) marks every tenant its own records say reads them, then renews its ready key. A
 * pass never throws: until one succeeds the audit service publishes every tool-call event.
 * A bucket lost since it was opened is made again by the next mark, and a full pass follows
 * at once, since the new bucket holds that one mark only.
 */
export class EventInterestWriter {
  private kv?: Promise<KV>;
  private timer?: NodeJS.Timeout;
  private failing = false;
  private stopped = false;

  constructor(
    private readonly name: EventInterestWriterName,
    private readonly open: () => Promise<KV>,
    /** Every tenant this writer's own records say reads its tool-call events. */
    private readonly readers: () => Promise<Iterable<string>>,
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
    private readonly retryMs = REMARK_RETRY_MS,
  ) {}

  start(): void {
    this.pass();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Marks the tenant; throws when the mark cannot be stored even in a bucket opened again. */
  async mark(tenantId: string): Promise<void> {
    try {
      await markToolCallInterest(await this.bucket(), tenantId);
    } catch {
      this.kv = undefined;
      await markToolCallInterest(await this.bucket(), tenantId);
      this.schedule(0);
    }
  }

  private pass(): void {
    void (async () => {
      let nextMs = EVENT_INTEREST_REMARK_MS;
      try {
        let count = 0;
        for (const tenant of await this.readers()) {
          await markToolCallInterest(await this.bucket(), tenant);
          count++;
        }
        await markWriterReady(await this.bucket(), this.name);
        if (this.failing) this.logger.info({ tenants: count }, 'tool call event readers marked again');
        this.failing = false;
      } catch (err) {
        this.kv = undefined;
        nextMs = this.retryMs;
        if (!this.failing) this.logger.warn({ err: (err as Error).message.slice(0, 300) }, 'tool call event readers not marked yet; retrying');
        this.failing = true;
      }
      this.schedule(nextMs);
    })();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pass(), delayMs).unref();
  }

  private bucket(): Promise<KV> {
    const opening = (this.kv ??= this.open());
    // A failed opening is tried again next time.
    opening.catch(() => {
      if (this.kv === opening) this.kv = undefined;
    });
    return opening;
  }
}

/**
 * The audit service's view of the marks: a watch of the bucket (KvMirror), so a new mark is
 * seen within milliseconds. Until the watch has loaded the marks and every writer's ready key,
 * and whenever the bucket cannot be read or the watch went stale, every tenant counts as
 * interested: an event too many costs a little, one too few is lost for good. The audit
 * service never makes the bucket.
 */
export class ToolCallInterest {
  private readonly tenants = new Set<string>();
  private readonly ready = new Set<string>();
  private readonly mirror: KvMirror;
  private loaded = false;
  private down = false;
  private everLive = false;

  constructor(
    bus: Bus,
    bucket: string,
    /** `down` says whether the view had been live before (else it is a start before the bucket exists). */
    private readonly log: { down(err: Error, wasLive: boolean): void; up(): void } = { down: () => undefined, up: () => undefined },
    timing: KvMirrorTiming = { retryMs: 1000, checkMs: 5000 },
  ) {
    this.mirror = new KvMirror(
      bus,
      bucket,
      {
        restarted: () => {
          this.tenants.clear();
          this.ready.clear();
          this.loaded = false;
        },
        entry: (entry) => {
          const set = entry.key.startsWith(READY_PREFIX) ? this.ready : this.tenants;
          const name = entry.key.slice(entry.key.indexOf('.') + 1);
          if (entry.operation === 'PUT') set.add(name);
          else set.delete(name);
          this.noteLive();
        },
        loaded: () => {
          this.loaded = true;
          this.noteLive();
        },
        down: (err) => {
          this.loaded = false;
          if (this.down) return;
          this.down = true;
          this.log.down(err, this.everLive);
        },
      },
      timing,
    );
  }

  start(): void {
    this.mirror.start();
  }

  /** Whether the tenant's tool-call events are published. */
  wants(tenantId: string): boolean {
    return !this.isLive() || this.tenants.has(tenantId);
  }

  /** The marks are loaded, complete (every writer ready) and watched: `wants` answers from them. */
  isLive(): boolean {
    return this.loaded && EVENT_INTEREST_WRITERS.every((w) => this.ready.has(w));
  }

  private noteLive(): void {
    if (!this.isLive()) return;
    this.everLive = true;
    if (this.down) {
      this.down = false;
      this.log.up();
    }
  }

  close(): Promise<void> {
    return this.mirror.close();
  }
}
