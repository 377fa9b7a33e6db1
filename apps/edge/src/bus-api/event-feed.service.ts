import { Inject, Injectable, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstreamManager, type ConsumerConfig, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
import { createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { busApi, events, TenantId, VmcpError, type RpcReply, type RpcRequestParsed } from '@vmcp/contracts';
import { Bus, EventInterestWriter, openEventInterest, takesToolCallEvents } from '@vmcp/messaging';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';

/** Tunables of the feed; the defaults suit production, tests shorten the redelivery time. */
export interface EventFeedOptions {
  /** Ack wait of new cursors: an event handed out and not acknowledged comes again after it. */
  readonly redeliverAfterMs?: number;
  /** Cursors a tenant may have; one more is RESOURCE_EXHAUSTED. */
  readonly maxCursorsPerTenant?: number;
  /** A cursor nobody pulled from for this long is deleted by JetStream (abandoned readers). */
  readonly inactiveAfterMs?: number;
}
export const EVENT_FEED_OPTIONS = Symbol.for('vmcp.edge.event-feed-options');

const DEFAULT_REDELIVER_AFTER_MS = 30_000;
const DEFAULT_MAX_CURSORS = 16;
const DEFAULT_INACTIVE_AFTER_MS = 30 * 24 * 3600 * 1000;
/** Events a cursor hands out without an acknowledgement; beyond it a pull waits for acks. */
const MAX_ACK_PENDING = 1024;
/** Every cursor's JetStream name starts with it (then the tenant id, `_`, the cursor name). */
const CURSOR_PREFIX = 'feed_';
/** Extra time to wait for JetStream's end-of-batch status after a pull request's own expiry. */
const PULL_GRACE_MS = 1000;
const ms = (n: number) => n * 1_000_000;

/** The cursor a pull request hit is gone (deleted meanwhile, or expired as inactive). */
class CursorGone extends Error {}

interface AckSubject {
  readonly consumer: string;
  readonly delivered: number;
  readonly streamSeq: number;
}

/**
 * The event feed of the bus API (docs/bus-api.md, "Event feed"): a tenant's named cursors over
 * the events stream. Each cursor is one JetStream durable pull consumer `feed_<tenant>_<name>`
 * (tenant ids are `ten_` + letters and digits, cursor names `[a-z0-9_-]`: the name is unique,
 * unambiguous and free of `.`, `*`, `>` and spaces), filtered to `vmcp.events.v1.<tenant>.>`
 * or to the requested types, acknowledged explicitly, redelivered without limit, deleted by
 * JetStream after a long idle time. The consumer lives in JetStream, so any edge replica
 * serves any pull or ack and a reader that was down resumes at its first unacknowledged event.
 *
 * The reader never gets a JetStream subject: an ack id is the event's ack reply subject,
 * encoded, and an ack publishes `+ACK` to it only after checking it names this tenant's
 * cursor on the events stream, so a forged or foreign ack id acknowledges nothing.
 */
@Injectable()
export class EventFeedService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly redeliverAfterMs: number;
  private readonly maxCursors: number;
  private readonly inactiveAfterMs: number;
  private jsm?: Promise<JetStreamManager>;
  /**
   * The edge's side of the event-interest bucket: every replica marks again, at start and every
   * few minutes, the tenant of every cursor there is (cursors older than the bucket, a bucket
   * lost and made again).
   */
  private readonly interest: EventInterestWriter;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly bus: Bus,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
    @Optional() @Inject(EVENT_FEED_OPTIONS) options: EventFeedOptions | null = null,
  ) {
    this.redeliverAfterMs = options?.redeliverAfterMs ?? DEFAULT_REDELIVER_AFTER_MS;
    this.maxCursors = options?.maxCursorsPerTenant ?? DEFAULT_MAX_CURSORS;
    this.inactiveAfterMs = options?.inactiveAfterMs ?? DEFAULT_INACTIVE_AFTER_MS;
    this.interest = new EventInterestWriter(
      'edge',
      () => openEventInterest(bus, config.eventInterestBucket),
      async () => new Set((await this.cursorNames()).map(tenantOfCursor).filter((t): t is string => t !== undefined)),
      logger,
    );
  }

  private get stream(): string {
    return this.config.eventsStream;
  }

  /**
   * Up to `max_events` events: those pending at once, else the first to arrive within
   * `wait_ms` and whatever is pending with it. Handed-out events are the reader's until it
   * acknowledges them or `redeliver_after_ms` passes.
   */
  async pull(tenantId: string, req: RpcRequestParsed<typeof busApi.pullEvents>): Promise<RpcReply<typeof busApi.pullEvents>> {
    let cursor = await this.ensureCursor(tenantId, req);
    let msgs: Msg[];
    try {
      msgs = await this.fetch(cursor.name, req.max_events, req.wait_ms);
    } catch (err) {
      if (!(err instanceof CursorGone)) throw err;
      // Deleted between the lookup and the pull: made again (as a first pull would), once.
      cursor = await this.ensureCursor(tenantId, req);
      msgs = await this.fetch(cursor.name, req.max_events, req.wait_ms).catch((e: unknown) => {
        throw e instanceof CursorGone ? new VmcpError('UNAVAILABLE', `event cursor "${req.consumer}" was deleted meanwhile; pull again`) : e;
      });
    }
    const out: RpcReply<typeof busApi.pullEvents>['events'] = [];
    for (const msg of msgs) {
      const ack = msg.reply ? parseAckSubject(msg.reply, this.stream) : undefined;
      if (!ack || ack.consumer !== cursor.name) {
        this.logger.error({ consumer: cursor.name }, 'event feed message without a usable ack subject skipped');
        continue;
      }
      const event = this.parseEvent(msg, tenantId);
      if (!event) {
        // Never handed to the reader and never again: one broken message must not block the cursor.
        this.logger.error({ consumer: cursor.name, seq: ack.streamSeq }, 'malformed event skipped by the event feed');
        this.bus.connection.publish(msg.reply as string, '+TERM');
        continue;
      }
      out.push({ ack_id: Buffer.from(msg.reply as string).toString('base64url'), seq: ack.streamSeq, deliveries: ack.delivered, event });
    }
    return { events: out, redeliver_after_ms: cursor.ackWaitMs };
  }

  /** Acknowledges events of the named cursor by their ack ids; all are checked before any is sent. */
  async ack(tenantId: string, req: RpcRequestParsed<typeof busApi.ackEvents>): Promise<RpcReply<typeof busApi.ackEvents>> {
    const name = cursorName(tenantId, req.consumer);
    const subjects = new Set<string>();
    for (const [i, ackId] of req.ack_ids.entries()) {
      const subject = Buffer.from(ackId, 'base64url').toString('utf8');
      const parsed = parseAckSubject(subject, this.stream);
      // The same answer for garbage and for another cursor's (or tenant's) id: nothing to learn from it.
      if (!parsed || parsed.consumer !== name) {
        throw new VmcpError('INVALID_ARGUMENT', `ack_ids[${i}] is not an ack id of event cursor "${req.consumer}"`);
      }
      subjects.add(subject);
    }
    // A request, not a publish: JetStream answers once it has processed the ack, so the reply
    // means the events will not come again. No answer at all means the cursor is gone.
    const results = await Promise.allSettled([...subjects].map((s) => this.bus.connection.request(s, '+ACK', { timeout: this.config.busTimeoutMs })));
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length) {
      const reason = (failed[0] as PromiseRejectedResult).reason as Error;
      if (reason.name === 'NoRespondersError' || /no responders/i.test(reason.message)) {
        throw new VmcpError('NOT_FOUND', `no event cursor named "${req.consumer}"`);
      }
      throw feedUnavailable(reason);
    }
    return { acked: subjects.size };
  }

  async deleteConsumer(tenantId: string, req: RpcRequestParsed<typeof busApi.deleteEventConsumer>): Promise<RpcReply<typeof busApi.deleteEventConsumer>> {
    const name = cursorName(tenantId, req.consumer);
    try {
      await (await this.manager()).consumers.delete(this.stream, name);
    } catch (err) {
      throw this.jsError(err, req.consumer);
    }
    return { consumer: req.consumer, deleted: true };
  }

  /** The tenant's cursor, made on first use; its filter must be the one asked for. */
  private async ensureCursor(tenantId: string, req: RpcRequestParsed<typeof busApi.pullEvents>): Promise<{ name: string; ackWaitMs: number }> {
    const name = cursorName(tenantId, req.consumer);
    const filters = filterSubjects(tenantId, req.types);
    const jsm = await this.manager();
    let info = await this.info(jsm, name, req.consumer);
    if (!info) {
      await this.checkCursorLimit(tenantId);
      // Marked before the cursor exists, so it misses no tool-call event of a call after it.
      if (takesToolCallEvents(req.types)) await this.markInterest(tenantId);
      const config: Partial<ConsumerConfig> = {
        durable_name: name,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: req.start === 'all' ? DeliverPolicy.All : DeliverPolicy.New,
        ack_wait: ms(this.redeliverAfterMs),
        max_deliver: -1,
        max_ack_pending: MAX_ACK_PENDING,
        inactive_threshold: ms(this.inactiveAfterMs),
        ...(filters.length === 1 ? { filter_subject: filters[0] } : { filter_subjects: filters }),
      };
      try {
        info = await jsm.consumers.add(this.stream, config);
        this.logger.info({ tenant_id: tenantId, consumer: req.consumer, types: req.types ?? ['*'], start: req.start }, 'event cursor created');
      } catch (err) {
        if (!(err instanceof JetStreamApiError) && /filter_subjects/.test((err as Error).message)) {
          throw new VmcpError('INVALID_ARGUMENT', 'several event types in one cursor need NATS server 2.10 or later: ask for one type, or for all (no types)');
        }
        // Made by a concurrent first pull (on another replica): use it if it is the same cursor.
        info = await this.info(jsm, name, req.consumer);
        if (!info) throw this.jsError(err, req.consumer);
      }
    }
    const existing = [...(info.config.filter_subjects ?? []), ...(info.config.filter_subject ? [info.config.filter_subject] : [])].sort();
    if (existing.join(' ') !== filters.join(' ')) {
      throw new VmcpError(
        'FAILED_PRECONDITION',
        `event cursor "${req.consumer}" reads ${describeTypes(tenantId, existing)}, not ${describeTypes(tenantId, filters)}: ` +
          'a cursor keeps the types it was made with; delete it (events.delete_consumer) or use another name',
      );
    }
    return { name, ackWaitMs: Math.max(1, Math.round((info.config.ack_wait ?? ms(this.redeliverAfterMs)) / 1_000_000)) };
  }

  /** A new cursor taking tool-call events marks its tenant (libs/messaging event-interest.ts). */
  private async markInterest(tenantId: string): Promise<void> {
    try {
      await this.interest.mark(tenantId);
    } catch (err) {
      throw feedUnavailable(err);
    }
  }

  onApplicationBootstrap(): void {
    this.interest.start();
  }

  onApplicationShutdown(): void {
    this.interest.stop();
  }

  private async info(jsm: JetStreamManager, name: string, cursor: string): Promise<ConsumerInfo | undefined> {
    try {
      return await jsm.consumers.info(this.stream, name);
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return undefined;
      throw this.jsError(err, cursor);
    }
  }

  /** Counts the tenant's cursors by name. */
  private async checkCursorLimit(tenantId: string): Promise<void> {
    const prefix = `${CURSOR_PREFIX}${tenantId}_`;
    let names: string[];
    try {
      names = await this.cursorNames();
    } catch (err) {
      throw feedUnavailable(err);
    }
    const count = names.filter((n) => n.startsWith(prefix)).length;
    // Two first pulls at once on two replicas may both pass: the cap is a guard, not an exact quota.
    if (count >= this.maxCursors) {
      throw new VmcpError('RESOURCE_EXHAUSTED', `a tenant has at most ${this.maxCursors} event cursors; delete one (events.delete_consumer) first`);
    }
  }

  /** Every consumer name of the events stream (JetStream lists names only stream-wide, a page at a time). */
  private async cursorNames(): Promise<string[]> {
    const all: string[] = [];
    for (let offset = 0; ; ) {
      const reply = await this.bus.connection.request(`$JS.API.CONSUMER.NAMES.${this.stream}`, JSON.stringify({ offset }), { timeout: this.config.busTimeoutMs });
      const page = reply.json<{ total?: number; consumers?: string[] | null; error?: { description?: string } }>();
      if (page.error) throw new Error(String(page.error.description));
      const names = page.consumers ?? [];
      all.push(...names);
      offset += names.length;
      if (!names.length || offset >= (page.total ?? 0)) return all;
    }
  }

  /**
   * Events pending now (one request that does not wait), else the first one to arrive
   * within `waitMs` followed by whatever is pending with it. Never a request that could
   * leave events delivered after the reply has gone (they would only come back after the ack wait).
   */
  private async fetch(name: string, max: number, waitMs: number): Promise<Msg[]> {
    const now = await this.next(name, { batch: max, no_wait: true });
    if (now.length || waitMs === 0) return now;
    const first = await this.next(name, { batch: 1, expires: ms(waitMs) });
    if (!first.length || max === 1) return first;
    return [...first, ...(await this.next(name, { batch: max - 1, no_wait: true }))];
  }

  /** One JetStream pull request ($JS.API.CONSUMER.MSG.NEXT) and the messages it yields, to the end-of-batch status. */
  private next(name: string, request: { batch: number; no_wait?: true; expires?: number }): Promise<Msg[]> {
    const nc = this.bus.connection;
    const inbox = createInbox(inboxPrefixOf(nc));
    const got: Msg[] = [];
    return new Promise<Msg[]>((resolve, reject) => {
      const finish = (err?: Error) => {
        clearTimeout(timer);
        sub.unsubscribe();
        if (err) reject(err);
        else resolve(got);
      };
      const sub = nc.subscribe(inbox, {
        callback: (err, msg) => {
          if (err) return finish(feedUnavailable(err));
          if (msg.subject !== inbox) {
            got.push(msg);
            if (got.length >= request.batch) finish();
            return;
          }
          // A status on the inbox itself: 100 heartbeat (not asked for), 404 nothing pending,
          // 408 request expired, 409 a limit or the cursor deleted, 503 no such cursor.
          const code = msg.headers?.code ?? 0;
          if (code === 100) return;
          if (code === 503) return finish(new CursorGone());
          if (code === 409 && /deleted/i.test(msg.headers?.description ?? '')) return got.length ? finish() : finish(new CursorGone());
          finish();
        },
      });
      const limitMs = request.expires ? request.expires / 1_000_000 + PULL_GRACE_MS : this.config.busTimeoutMs;
      // No end-of-batch status in time: whatever came is returned; later ones come back after the ack wait.
      const timer = setTimeout(() => finish(), limitMs);
      nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${this.stream}.${name}`, JSON.stringify(request), { reply: inbox });
    });
  }

  /** The envelope of a delivered event, if it is one of this tenant's and well-formed. */
  private parseEvent(msg: Msg, tenantId: string): events.EventEnvelope | undefined {
    let body: unknown;
    try {
      body = msg.json();
    } catch {
      return undefined;
    }
    const parsed = events.EventEnvelope.safeParse(body);
    if (!parsed.success) return undefined;
    // The subject and the body must agree on tenant and type: the filter is on the subject.
    if (parsed.data.tenant_id !== tenantId || msg.subject !== `${events.EVENTS_SUBJECT_PREFIX}.${tenantId}.${parsed.data.type}`) return undefined;
    return parsed.data;
  }

  private manager(): Promise<JetStreamManager> {
    // No API probe: the first real call tells whether JetStream answers.
    this.jsm ??= jetstreamManager(this.bus.connection, { checkAPI: false, timeout: this.config.busTimeoutMs });
    return this.jsm;
  }

  private jsError(err: unknown, cursor: string): VmcpError {
    if (err instanceof VmcpError) return err;
    if (err instanceof JetStreamApiError) {
      if (err.code === JetStreamApiCodes.ConsumerNotFound) return new VmcpError('NOT_FOUND', `no event cursor named "${cursor}"`);
      if (err.code === JetStreamApiCodes.StreamNotFound) return new VmcpError('UNAVAILABLE', 'event stream not available yet');
    }
    return feedUnavailable(err);
  }
}

/** NATS or JetStream did not do what the feed asked: the caller may try again. */
function feedUnavailable(err: unknown): VmcpError {
  return new VmcpError('UNAVAILABLE', `event feed unavailable: ${(err as Error).message.slice(0, 200)}`);
}

/** The tenant of a cursor's JetStream name `feed_<tenant>_<cursor>` (tenant ids are `ten_` + letters and digits); undefined for other consumers. */
export function tenantOfCursor(name: string): string | undefined {
  if (!name.startsWith(CURSOR_PREFIX)) return undefined;
  const tenant = name.slice(CURSOR_PREFIX.length).split('_', 2).join('_');
  return TenantId.safeParse(tenant).success ? tenant : undefined;
}

/** The JetStream name of a tenant's cursor. */
export function cursorName(tenantId: string, cursor: string): string {
  // Both come checked from the responder (principal, request schema); checked again because
  // the name is all that keeps one tenant's cursor from another's.
  if (!TenantId.safeParse(tenantId).success || !busApi.EventConsumerName.safeParse(cursor).success) {
    throw new VmcpError('INVALID_ARGUMENT', 'invalid event cursor name');
  }
  return `${CURSOR_PREFIX}${tenantId}_${cursor}`;
}

/** The subjects a cursor reads, sorted: all of the tenant's events, or the listed types. */
function filterSubjects(tenantId: string, types: readonly string[] | undefined): string[] {
  if (!types) return [`${events.EVENTS_SUBJECT_PREFIX}.${tenantId}.>`];
  const known = events.EventType.options as readonly string[];
  for (const type of types) {
    if (!known.includes(type)) throw new VmcpError('INVALID_ARGUMENT', `unknown event type "${type}"; known types: ${known.join(', ')}`);
  }
  return [...new Set(types)].map((t) => `${events.EVENTS_SUBJECT_PREFIX}.${tenantId}.${t}`).sort();
}

function describeTypes(tenantId: string, filters: readonly string[]): string {
  const prefix = `${events.EVENTS_SUBJECT_PREFIX}.${tenantId}.`;
  const types = filters.map((f) => (f.startsWith(prefix) ? f.slice(prefix.length) : f));
  return types.length === 1 && types[0] === '>' ? 'all event types' : `types [${types.join(', ')}]`;
}

const COUNTER = /^[0-9]{1,20}$/;

/**
 * A JetStream ack subject `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer
 * seq>.<timestamp>.<pending>` of `stream`, or undefined for anything else (including the
 * longer form with domain and account hash, which no vmcp server sends and no grant allows).
 */
export function parseAckSubject(subject: string, stream: string): AckSubject | undefined {
  const t = subject.split('.');
  if (t.length !== 9 || t[0] !== '$JS' || t[1] !== 'ACK' || t[2] !== stream) return undefined;
  const [consumer, delivered, streamSeq, ...rest] = t.slice(3) as [string, string, string, ...string[]];
  if (!consumer.startsWith(CURSOR_PREFIX) || ![delivered, streamSeq, ...rest].every((n) => COUNTER.test(n))) return undefined;
  return { consumer, delivered: Number(delivered), streamSeq: Number(streamSeq) };
}

/** The connection's inbox prefix (`_INBOX_edge`: the only replies the edge's NATS user may read). */
function inboxPrefixOf(nc: NatsConnection): string | undefined {
  return (nc as NatsConnection & { options?: { inboxPrefix?: string } }).options?.inboxPrefix;
}
