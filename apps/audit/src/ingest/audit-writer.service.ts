import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { audit, canonicalJson, type AuditEvent } from '@vmcp/contracts';
import { Bus, ensureAuditStream } from '@vmcp/messaging';
import { DataSource, nowIso } from '@vmcp/persistence';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import { context, propagation, SpanKind } from '@opentelemetry/api';
import { natsHeaderGetter } from '@vmcp/messaging';
import { metrics, secondsSince, tracer } from '@vmcp/telemetry';
import { In } from 'typeorm';
import { ToolCallLogEntity } from '../logs/tool-call-log.entity.js';
import { appendEvents } from './append.js';
import { mergeEvent, type StoredLog } from './merge.js';

export const AUDIT_CONSUMER = 'audit-writer';
const MAX_BATCH = 200;
const FLUSH_AFTER_MS = 20;

/**
 * Drains the AUDIT stream: a durable pull consumer; each batch is appended to the
 * tenants' hash chains (audit_records) and merged into tool_call_logs in one transaction,
 * acknowledged only after commit (a failed batch is redelivered, and events already
 * stored are skipped, so redelivery never doubles or forks anything).
 */
@Injectable()
export class AuditWriterService implements OnApplicationShutdown {
  private messages?: ConsumerMessages;
  private stopped = false;
  private batch: JsMsg[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private streamReady = false;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly bus: Bus,
    private readonly ds: DataSource,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  isStreamReady(): boolean {
    return this.streamReady;
  }

  async start(): Promise<void> {
    await ensureAuditStream(this.bus, this.config.auditStream);
    const jsm = await jetstreamManager(this.bus.connection);
    await jsm.consumers
      .add(this.config.auditStream, {
        durable_name: AUDIT_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        max_ack_pending: 2000,
        ack_wait: 30_000_000_000,
      })
      .catch(async (err: Error) => {
        // Already there from an earlier start or another replica: fine.
        if (!/already|exists/i.test(err.message)) throw err;
      });
    this.streamReady = true;
    void this.run();
  }

  private async run(): Promise<void> {
    const js = jetstream(this.bus.connection);
    while (!this.stopped) {
      try {
        const consumer = await js.consumers.get(this.config.auditStream, AUDIT_CONSUMER);
        this.messages = await consumer.consume({ max_messages: 1000 });
        for await (const msg of this.messages) {
          this.batch.push(msg);
          if (this.batch.length >= MAX_BATCH) await this.flush();
          else this.timer ??= setTimeout(() => void this.flush(), FLUSH_AFTER_MS);
        }
      } catch (err) {
        if (this.stopped) return;
        this.logger.warn({ err: (err as Error).message }, 'audit consumer interrupted; resuming');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const messages = this.batch;
    this.batch = [];
    // Batches are written one after another, in delivery order.
    this.flushing = this.flushing.then(() => (messages.length ? this.write(messages) : undefined));
    return this.flushing;
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
        await repo.save(rows as ToolCallLogEntity[], { chunk: 100 });
      });
    } catch (err) {
      this.logger.error({ err: (err as Error).message, count: events.length }, 'audit batch not stored; will be redelivered');
      for (const { msg } of events) msg.nak(1000);
      metrics().audit.batchFailed(events.length);
      return;
    }
    metrics().audit.batchWritten(events.length, secondsSince(started));
    for (const { msg, event } of events) {
      msg.ack();
      // One short span per stored record, in the trace of the call it belongs to.
      const parent = propagation.extract(context.active(), msg.headers, natsHeaderGetter);
      tracer()
        .startSpan('audit.store', { kind: SpanKind.CONSUMER, attributes: { 'vmcp.execution_id': event.execution_id, 'vmcp.audit_type': event.type } }, parent)
        .end();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.messages?.close().catch(() => undefined);
    await this.flush();
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
