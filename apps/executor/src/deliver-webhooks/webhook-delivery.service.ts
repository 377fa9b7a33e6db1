import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { context, propagation, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { events, webhooks } from '@vmcp/contracts';
import { Bus, natsHeaderGetter } from '@vmcp/messaging';
import { VMCP_LOGGER } from '@vmcp/runtime';
import { tracer, VMCP_VERSION, type Logger } from '@vmcp/telemetry';
import { DeliveryTargets } from './delivery-targets.js';
import { nextStep, type AttemptResult } from './delivery-schedule.js';
import { webhookHeaders } from './webhook-signature.js';

/** The one durable pull consumer every executor replica pulls from: each event goes to one replica. */
export const WEBHOOK_CONSUMER = 'webhook-delivery';
/** Deliveries one replica runs at once, so one slow receiver does not hold up the others. */
const MAX_IN_FLIGHT = 32;
const MAX_ACK_PENDING = 1000;
const RESUME_MAX_MS = 2000;

const ms = (n: number) => n * 1_000_000;

/**
 * Delivers the events stream to each tenant's webhook: POST of the event JSON, signed
 * Standard-Webhooks style, with a timeout. 2xx is acknowledged; 410 is terminated (never
 * retried); anything else is NAKed with an exponential delay until the attempts or the
 * event's age run out. No webhook, or not subscribed to the type: acknowledged and skipped.
 * Delivery is at least once (a receiver deduplicates on `webhook-id`), and unordered.
 */
@Injectable()
export class WebhookDeliveryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopped = false;
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly targets: DeliveryTargets;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly bus: Bus,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {
    // Listening for webhook changes before the first delivery, so no copy outlives a change.
    this.targets = new DeliveryTargets(bus);
  }

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.messages?.close().catch(() => undefined);
    // Unfinished attempts are redelivered after the ack wait: nothing is lost.
    await Promise.allSettled([...this.inFlight]);
    await this.loop;
    this.targets.close();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.ensureConsumer();
        const consumer = await jetstream(this.bus.connection).consumers.get(this.config.eventsStream, WEBHOOK_CONSUMER);
        // A deleted stream or consumer ends the loop, which then creates them again.
        this.messages = await consumer.consume({ max_messages: MAX_IN_FLIGHT, abort_on_missing_resource: true });
        if (failures) this.logger.info({ failures }, 'webhook delivery resumed');
        failures = 0;
        for await (const msg of this.messages) {
          while (this.inFlight.size >= MAX_IN_FLIGHT) await Promise.race(this.inFlight);
          const job: Promise<void> = this.deliver(msg).finally(() => this.inFlight.delete(job));
          this.inFlight.add(job);
        }
        if (this.stopped) return;
        throw new Error('consumer closed');
      } catch (err) {
        if (this.stopped) return;
        failures++;
        // The stream appears when policy first starts: until then, wait quietly.
        if (failures === 1 || failures % 30 === 0) {
          this.logger.warn({ err: (err as Error).message.slice(0, 300), failures }, 'webhook delivery waiting for the events stream');
        }
        await this.sleep(Math.min(RESUME_MAX_MS, 100 * 2 ** failures));
      }
    }
  }

  /** Creates the shared durable consumer, or brings it to this replica's settings. */
  private async ensureConsumer(): Promise<void> {
    const jsm = await jetstreamManager(this.bus.connection);
    const settings = {
      // An attempt's whole time, with room to spare, before JetStream hands the event to another replica.
      ack_wait: ms(this.config.webhooks.timeoutMs + 30_000),
      // A backstop: the attempt count is enforced here, by terminating the message.
      max_deliver: this.config.webhooks.maxAttempts + 3,
      max_ack_pending: MAX_ACK_PENDING,
    };
    try {
      await jsm.consumers.add(this.config.eventsStream, {
        durable_name: WEBHOOK_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ...settings,
      });
    } catch (err) {
      if (!/already|exists/i.test((err as Error).message)) throw err;
      await jsm.consumers.update(this.config.eventsStream, WEBHOOK_CONSUMER, settings);
    }
  }

  /**
   * An event whose tenant is known (from the kept copy) to have no webhook taking its type:
   * the usual case, tool-call events of tenants without one. It is acknowledged before any
   * parsing or span, since it goes nowhere.
   */
  private goesNowhere(subject: string): boolean {
    const prefix = `${events.EVENTS_SUBJECT_PREFIX}.`;
    if (!subject.startsWith(prefix)) return false;
    const dot = subject.indexOf('.', prefix.length);
    if (dot < 0) return false;
    const kept = this.targets.kept(subject.slice(prefix.length, dot));
    return kept !== undefined && (!kept.target || !webhooks.wantsEvent(kept.target.events, subject.slice(dot + 1)));
  }

  private async deliver(msg: JsMsg): Promise<void> {
    if (this.goesNowhere(msg.subject)) {
      settle(() => msg.ack());
      return;
    }
    const body = msg.string();
    let raw: unknown;
    try {
      raw = JSON.parse(body);
    } catch {
      raw = undefined;
    }
    const parsed = events.EventEnvelope.safeParse(raw);
    // The subject names the tenant too: a body that disagrees is never sent anywhere.
    if (!parsed.success || msg.subject !== `${events.EVENTS_SUBJECT_PREFIX}.${parsed.data.tenant_id}.${parsed.data.type}`) {
      this.logger.error({ subject: msg.subject, seq: msg.seq }, 'malformed event not delivered');
      settle(() => msg.term());
      return;
    }
    const event = parsed.data;
    const attempt = msg.info.deliveryCount;
    const parent = propagation.extract(context.active(), msg.headers, natsHeaderGetter);
    await tracer().startActiveSpan(
      'webhook.deliver',
      { kind: SpanKind.PRODUCER, attributes: { 'vmcp.event_id': event.event_id, 'vmcp.event_type': event.type, 'vmcp.attempt': attempt } },
      parent,
      async (span) => {
        const facts = { event_id: event.event_id, tenant_id: event.tenant_id, type: event.type, attempt };
        let result: AttemptResult;
        let host: string | undefined;
        try {
          const target = await this.targets.get(event.tenant_id);
          if (!target || !webhooks.wantsEvent(target.events, event.type)) {
            settle(() => msg.ack());
            span.setAttribute('vmcp.webhook_outcome', 'skipped');
            span.end();
            return;
          }
          // The host only: a URL's path or query may carry a token of the receiver's.
          host = new URL(target.url).host;
          result = await this.post(target.url, target.signing_secret, event.event_id, body);
        } catch (err) {
          result = { kind: 'error', reason: `webhook settings unavailable (${(err as { code?: string }).code ?? 'error'})` };
        }
        const ageMs = Date.now() - Math.floor(msg.info.timestampNanos / 1_000_000);
        const step = nextStep(result, attempt, ageMs, this.config.webhooks);
        const answer = result.kind === 'status' ? { status: result.status } : { reason: result.reason };
        switch (step.action) {
          case 'ack':
            settle(() => msg.ack());
            this.logger.info({ ...facts, host, ...answer }, 'webhook delivered');
            break;
          case 'term':
            // No reason in the ack (the log has it): nats-server 2.9 takes `+TERM <reason>` for an
            // unknown ack, keeps the event pending and delivers it again after the ack wait.
            settle(() => msg.term());
            this.logger.warn({ ...facts, host, ...answer, outcome: step.outcome }, 'webhook delivery given up');
            break;
          case 'retry':
            settle(() => msg.nak(step.delayMs));
            this.logger.info({ ...facts, host, ...answer, retry_in_ms: step.delayMs }, 'webhook delivery failed; will retry');
            break;
        }
        span.setAttribute('vmcp.webhook_outcome', step.action === 'retry' ? 'retry' : step.outcome);
        if (result.kind === 'status') span.setAttribute('http.response.status_code', result.status);
        if (step.action !== 'ack') span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      },
    );
  }

  private async post(url: string, secret: string, eventId: string, body: string): Promise<AttemptResult> {
    const timeoutMs = this.config.webhooks.timeoutMs;
    const headers = {
      'content-type': 'application/json',
      'user-agent': `vmcp-webhooks/${VMCP_VERSION}`,
      ...webhookHeaders(secret, eventId, Math.floor(Date.now() / 1000), body),
    };
    try {
      // Redirects are not followed: a signed event goes only where the tenant said.
      const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      await res.body?.cancel().catch(() => undefined);
      return { kind: 'status', status: res.status };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') return { kind: 'error', reason: `no answer within ${timeoutMs} ms` };
      return { kind: 'error', reason: e.cause?.code ?? 'connection failed' };
    }
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, delayMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** Acks and naks are fire-and-forget; on a closing connection the message is simply redelivered later. */
function settle(action: () => void): void {
  try {
    action();
  } catch {
    // redelivered after the ack wait
  }
}
