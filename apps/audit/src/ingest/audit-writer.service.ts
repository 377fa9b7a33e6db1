import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { audit, canonicalJson, isVmcpError, type AuditEvent } from '@vmcp/contracts';
import { Bus, ensureAuditStream, ensureEventsStream, publishEvent, ToolCallInterest } from '@vmcp/messaging';
import { bulkInsert, DataSource, nowIso } from '@vmcp/persistence';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import { context, propagation, SpanKind } from '@opentelemetry/api';
import { natsHeaderGetter } from '@vmcp/messaging';
import { metrics, secondsSince, tracer } from '@vmcp/telemetry';
import { In } from 'typeorm';
import { ToolCallLogEntity } from '../logs/tool-call-log.entity.js';
import { appendEvents } from './append.js';
import { mergeEvent, type StoredLog } from './merge.js';
import { toolCallEvent } from './tool-call-events.js';

export const AUDIT_CONSUMER = 'audit-writer';
/** Events per transaction: large enough that PostgreSQL's per-commit cost is spread thin. */
const MAX_BATCH = 1000;
/**
 * How long an idle lane collects before it writes: records are durable in JetStream already,
 * so this only delays when they can be read back. At 20 ms a lightly loaded gateway wrote a
 * transaction (and an fsync) every second call; 100 ms cut the audit service's CPU per call
 * about in half (bench/cpu-per-call: 1.4 → 0.8 ms).
 */
const FLUSH_AFTER_MS = 100;
/**
 * Batches written at the same time, each in its own transaction and connection: PostgreSQL
 * spends most of a batch waiting on the disk, so lanes overlap. A tenant's events always
 * go to the same lane (by the tenant in the subject), so its chain grows in delivery order.
 */
const LANES = 4;

interface Lane {
  batch: JsMsg[];
  timer?: NodeJS.Timeout;
  /** A write is running; what arrives meanwhile is written right after it. */
  busy: boolean;
  flushing: Promise<void>;
}

/** Rows per upsert statement (24 columns each: well inside every driver's parameter limit). */
const UPSERT_CHUNK = 500;
/** Unacknowledged events JetStream hands out; it bounds what a writer holds in memory. */
const MAX_ACK_PENDING = 4000;
/** An event handed to a writer that died is redelivered after this long. */
const ACK_WAIT_NS = 10_000_000_000;
const LOG_COLUMNS_UPDATED = [
  'status',
  'error_code',
  'error_message',
  'duration_ms',
  'finished_at',
  'config_id',
  'connection_name',
  'connector',
  'connected_account_id',
  'arguments_size',
  'arguments_sha256',
  'result_size',
  'result_sha256',
  'arguments',
  'result',
];

/** A record whose tenant event could not be published comes again after this long. */
const EVENT_RETRY_MS = 1000;

/**
 * Drains the AUDIT stream: a durable pull consumer; each batch is appended to the
 * tenants' hash chains (audit_records) and merged into tool_call_logs in one transaction,
 * acknowledged only after commit (a failed batch is redelivered, and events already
 * stored are skipped, so redelivery never doubles or forks anything). After the commit each
 * record is announced as a tenant event (tool_call.started|finished|denied) on the events
 * stream, and only then acknowledged: a failed publish redelivers the record, which the
 * database skips and which is published again under the same message id. Only tenants that
 * read their tool-call events (ToolCallInterest) get them; the others' records are
 * acknowledged once stored.
 */
@Injectable()
export class AuditWriterService implements OnApplicationShutdown {
  private messages?: ConsumerMessages;
  private stopped = false;
  /** Independent write lanes; a tenant always maps to the same lane, so its chain is appended in order. */
  private readonly lanes: Lane[] = Array.from({ length: LANES }, () => ({ batch: [], busy: false, flushing: Promise.resolve() }));
  private streamReady = false;
  private eventsStreamReady = false;
  private readonly interest: ToolCallInterest;
  private stopObservingFilter?: () => void;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly bus: Bus,
    private readonly ds: DataSource,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {
    this.interest = new ToolCallInterest(bus, config.eventInterestBucket, {
      // Before the first look (a fresh deployment: policy and the edge make the bucket) this is no fault.
      down: (err, wasLive) =>
        logger[wasLive ? 'warn' : 'info']({ err: err.message.slice(0, 300) }, 'event interest not readable; publishing every tool call event until it is'),
      up: () => logger.info('event interest readable; publishing tool call events of the tenants that read them only'),
    });
  }

  isStreamReady(): boolean {
    return this.streamReady;
  }

  /** Whether the tenant's records are announced as tool-call events (it reads them, or that is not known yet). */
  announces(tenantId: string): boolean {
    return this.interest.wants(tenantId);
  }

  async start(): Promise<void> {
    this.interest.start();
    this.stopObservingFilter = metrics().audit.observeEventFilter(() => this.interest.isLive());
    await this.ensureConsumer();
    void this.run();
  }

  /** The stream and the durable consumer, created or brought to the expected configuration. */
  private async ensureConsumer(): Promise<void> {
    await ensureAuditStream(this.bus, this.config.auditStream, { maxAgeMs: this.config.auditStreamMaxAgeMs });
    await this.ensureEventsStream();
    const jsm = await jetstreamManager(this.bus.connection);
    const config = { ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: MAX_ACK_PENDING, ack_wait: ACK_WAIT_NS };
    try {
      await jsm.consumers.add(this.config.auditStream, { durable_name: AUDIT_CONSUMER, ...config });
    } catch (err) {
      // Already there from an earlier start or another replica: brought up to date.
      if (!/already|exists/i.test((err as Error).message)) throw err;
      await jsm.consumers.update(this.config.auditStream, AUDIT_CONSUMER, { max_ack_pending: MAX_ACK_PENDING, ack_wait: ACK_WAIT_NS });
    }
    this.streamReady = true;
  }

  /**
   * The events stream is policy's; the audit service only makes it when it is missing (as
   * the edge does with AUDIT), so records are announced even before policy first ran. A
   * failure is not fatal: publishing fails, records are redelivered, and this runs again.
   */
  private async ensureEventsStream(): Promise<void> {
    try {
      await ensureEventsStream(this.bus, this.config.eventsStream, { reconfigure: false });
      this.eventsStreamReady = true;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message.slice(0, 300) }, 'events stream not available yet');
    }
  }

  private async run(): Promise<void> {
    const js = jetstream(this.bus.connection);
    while (!this.stopped) {
      try {
        const consumer = await js.consumers.get(this.config.auditStream, AUDIT_CONSUMER);
        // A deleted stream or consumer ends the iteration instead of waiting forever.
        this.messages = await consumer.consume({ max_messages: MAX_BATCH * 2, abort_on_missing_resource: true });
        for await (const msg of this.messages) {
          const lane = this.laneOf(msg.subject);
          lane.batch.push(msg);
          // Group commit: an idle lane writes soon (FLUSH_AFTER_MS, or at once when full); a
          // busy one keeps collecting and writes what piled up as soon as it is done, so
          // batches grow with the load. max_ack_pending bounds what is held.
          if (!lane.busy && lane.batch.length >= MAX_BATCH) void this.flush(lane);
          else if (!lane.busy) lane.timer ??= setTimeout(() => void this.flush(lane), FLUSH_AFTER_MS);
        }
        if (this.stopped) return;
        throw new Error('consumer closed');
      } catch (err) {
        if (this.stopped) return;
        this.streamReady = false;
        this.logger.warn({ err: (err as Error).message }, 'audit consumer interrupted; resuming');
        await new Promise((r) => setTimeout(r, 500));
        // The stream or the consumer may be gone (deleted, or a NATS store lost): make them again.
        await this.ensureConsumer().catch((e: unknown) => this.logger.warn({ err: (e as Error).message }, 'audit stream not available yet'));
      }
    }
  }

  /** The lane of an event, by the tenant in its subject `vmcp.audit.v1.events.<tenant_id>`. */
  private laneOf(subject: string): Lane {
    let h = 0;
    for (let i = subject.lastIndexOf('.') + 1; i < subject.length; i++) h = (h * 31 + subject.charCodeAt(i)) | 0;
    return this.lanes[Math.abs(h) % this.lanes.length] as Lane;
  }

  /** Writes the lane's batch, then whatever arrived meanwhile, one transaction at a time, in delivery order. */
  private flush(lane: Lane): Promise<void> {
    clearTimeout(lane.timer);
    lane.timer = undefined;
    if (lane.busy) return lane.flushing;
    lane.busy = true;
    lane.flushing = (async () => {
      try {
        while (lane.batch.length) {
          const messages = lane.batch.splice(0, MAX_BATCH);
          await this.write(messages);
        }
      } finally {
        lane.busy = false;
      }
    })();
    return lane.flushing;
  }

  private async write(messages: JsMsg[]): Promise<void> {
    const events: Array<{ msg: JsMsg; event: AuditEvent }> = [];
    for (const msg of messages) {
      let body: unknown;
      try {
        body = msg.json();
      } catch {
        body = undefined;
      }
      const parsed = audit.AuditEvent.safeParse(body);
      // An event that cannot be hashed or stored would fail its whole batch on every redelivery.
      if (parsed.success && storable(parsed.data)) events.push({ msg, event: parsed.data });
      else {
        this.logger.error({ subject: msg.subject, seq: msg.seq }, 'malformed audit event dropped');
        msg.term();
      }
    }
    if (!events.length) return;
    const started = performance.now();
    try {
      await this.ds.transaction(async (m) => {
        const fresh = await appendEvents(
          m,
          events.map((e) => e.event),
          nowIso(),
        );
        if (!fresh.length) return;
        const repo = m.getRepository(ToolCallLogEntity);
        const ids = [...new Set(fresh.map((e) => e.execution_id))];
        const existing = new Map((await repo.findBy({ execution_id: In(ids) })).map((r) => [r.execution_id, r as StoredLog]));
        for (const event of fresh) {
          const row = existing.get(event.execution_id);
          // A log row belongs to one tenant: an event claiming another tenant's execution id is ignored.
          if (row && row.tenant_id !== event.tenant_id) continue;
          existing.set(event.execution_id, mergeEvent(row, event));
        }
        const rows = ids.map((id) => existing.get(id)).filter((r): r is StoredLog => Boolean(r));
        // One upsert statement per chunk (merged above), instead of a lookup and a write per row.
        await bulkInsert(m, ToolCallLogEntity, rows as ToolCallLogEntity[], { chunk: UPSERT_CHUNK, upsert: { conflict: ['execution_id'], update: LOG_COLUMNS_UPDATED } });
      });
    } catch (err) {
      this.logger.error({ err: (err as Error).message, count: events.length }, 'audit batch not stored; will be redelivered');
      for (const { msg } of events) msg.nak(1000);
      metrics().audit.batchFailed(events.length);
      return;
    }
    metrics().audit.batchWritten(events.length, secondsSince(started));
    if (!this.eventsStreamReady) await this.ensureEventsStream();
    let unpublished = 0;
    let lastError = '';
    // Every record of the batch, stored now or found already stored (a redelivery whose
    // first publish failed): the message id makes a second copy within the window a no-op.
    // One connection keeps the publishes in order, so a tenant's events keep its chain's order.
    await Promise.all(
      events.map(async ({ msg, event }) => {
        // The record's span and its event join the trace of the call it belongs to.
        const parent = propagation.extract(context.active(), msg.headers, natsHeaderGetter);
        tracer()
          .startSpan('audit.store', { kind: SpanKind.CONSUMER, attributes: { 'vmcp.execution_id': event.execution_id, 'vmcp.audit_type': event.type } }, parent)
          .end();
        if (!this.announces(event.tenant_id)) {
          msg.ack();
          return;
        }
        try {
          await context.with(parent, () => publishEvent(this.bus, this.config.eventsStream, toolCallEvent(event)));
        } catch (err) {
          // An event the contract refuses would be refused on every redelivery: the record is stored, so go on.
          if (isVmcpError(err) && err.code === 'INTERNAL') {
            this.logger.error({ event_id: event.event_id, err: err.message.slice(0, 300) }, 'tool call event not published: invalid');
          } else {
            unpublished++;
            lastError = (err as Error).message.slice(0, 300);
            msg.nak(EVENT_RETRY_MS);
            return;
          }
        }
        msg.ack();
      }),
    );
    if (unpublished) {
      this.eventsStreamReady = false;
      this.logger.warn({ count: unpublished, err: lastError }, 'tool call events not published; records will be redelivered');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.messages?.close().catch(() => undefined);
    await Promise.all(this.lanes.map((lane) => this.flush(lane)));
    this.stopObservingFilter?.();
    await this.interest.close();
  }
}

function storable(event: AuditEvent): boolean {
  if (event.event_id.length > 128) return false;
  try {
    canonicalJson(event);
    return true;
  } catch {
    return false;
  }
}
