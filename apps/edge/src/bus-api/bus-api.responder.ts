import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Msg, Subscription } from '@nats-io/transport-node';
import { context, propagation, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { busApi } from '@vmcp/contracts';
import { Bus, InFlight, natsHeaderGetter } from '@vmcp/messaging';
import { VMCP_LOGGER } from '@vmcp/runtime';
import { metrics, secondsSince, tracer, type Logger } from '@vmcp/telemetry';
import { TenantApiService } from '../api/tenant-api.service.js';
import { ApiPrincipalResolver } from '../auth/api-principal.js';
import { BusApiDispatcher, operation, replyPayload, type BusApiOperation } from './bus-api.dispatch.js';
import { EventFeedService } from './event-feed.service.js';

/** Label and span name of requests on a subject that is no operation (the caller chose it: never a label). */
const UNKNOWN_SUBJECT = `${busApi.BUS_API_SUBJECT_PREFIX}.unknown`;
/** nats-server's default max_payload, should the server not have said. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** Every bus API operation and the code it runs: REST's own for the shared ones. */
export function busApiOperations(ops: TenantApiService, feed: EventFeedService): BusApiOperation[] {
  return [
    operation(busApi.mintToken, (t, r) => ops.mintToken(t, r)),
    operation(busApi.revokeToken, (t, r) => ops.revokeToken(t, r)),
    operation(busApi.scopedTools, (t, r) => ops.scopedTools(t, r)),
    // No abort signal: a caller that stops waiting does not stop the call (docs/bus-api.md, timeouts).
    operation(busApi.executeTool, (t, r) => ops.executeTool(t, r)),
    operation(busApi.listAccounts, (t, r) => ops.listAccounts(t, r)),
    operation(busApi.getAccount, (t, r) => ops.getAccount(t, r)),
    operation(busApi.authorizationLink, (t, r) => ops.authorizationLink(t, r)),
    operation(busApi.configAccounts, (t, r) => ops.configAccounts(t, r)),
    operation(busApi.listLogs, (t, r) => ops.listLogs(t, r)),
    operation(busApi.getLog, (t, r) => ops.getLog(t, r)),
    operation(busApi.pullEvents, (t, r) => feed.pull(t, r)),
    operation(busApi.ackEvents, (t, r) => feed.ack(t, r)),
    operation(busApi.deleteEventConsumer, (t, r) => feed.deleteConsumer(t, r)),
  ];
}

/**
 * The public bus API (vmcp.api.v1.*, docs/bus-api.md): every edge replica answers it in one
 * queue group on the edge's own connection, so a tenant's backend reaches vmcp over NATS as
 * it would over HTTP, with its tenant API key in a header. Every request with a reply
 * subject gets exactly one reply; one without is dropped and counted.
 */
@Injectable()
export class BusApiResponder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly dispatcher: BusApiDispatcher;
  private subscription?: Subscription;
  private readonly inFlight = new InFlight();

  constructor(
    private readonly bus: Bus,
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
    auth: ApiPrincipalResolver,
    ops: TenantApiService,
    feed: EventFeedService,
  ) {
    this.dispatcher = new BusApiDispatcher(busApiOperations(ops, feed), (key) => auth.tenantOfKey(key));
  }

  /** Subscribed before the edge says it is ready: the server has the subscription once this resolves. */
  async onApplicationBootstrap(): Promise<void> {
    this.subscription = this.bus.connection.subscribe(`${busApi.BUS_API_SUBJECT_PREFIX}.>`, {
      queue: busApi.BUS_API_QUEUE,
      callback: (err, msg) => this.receive(err, msg),
    });
    await this.bus.connection.flush();
  }

  private receive(err: Error | null, msg: Msg): void {
    if (err) {
      // The subscription itself failed (e.g. a permission the server refused): nothing to answer.
      this.logger.error({ err: err.message }, 'bus API subscription failed');
      return;
    }
    const label = this.dispatcher.operation(msg.subject)?.subject ?? UNKNOWN_SUBJECT;
    if (!msg.reply) {
      metrics().bus.dropped(label, 'no_reply_subject');
      this.logger.debug({ subject: label }, 'bus API message without a reply subject dropped');
      return;
    }
    const done = this.inFlight.begin();
    void this.answer(msg, label)
      .catch((e: unknown) => this.logger.error({ err: e instanceof Error ? e.message : String(e), subject: label }, 'bus API request failed'))
      .finally(done);
  }

  /** Continues the caller's trace (headers, as serveRpc does), answers, and records the outcome. */
  private answer(msg: Msg, label: string): Promise<void> {
    const parent = propagation.extract(context.active(), msg.headers, natsHeaderGetter);
    return tracer().startActiveSpan(
      `${label} process`,
      { kind: SpanKind.SERVER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': label } },
      parent,
      async (span) => {
        const started = performance.now();
        try {
          const outcome = await this.dispatcher.dispatch({
            subject: msg.subject,
            data: msg.data,
            apiKeys: msg.headers?.values(busApi.API_KEY_HEADER, 'insensitive') ?? [],
          });
          if (outcome.unexpected !== undefined) {
            const err = outcome.unexpected;
            span.recordException(err instanceof Error ? err : new Error(String(err)));
            this.logger.error({ err: err instanceof Error ? err.message : String(err), subject: label }, 'unhandled error');
          }
          const reply = replyPayload(outcome, this.bus.connection.info?.max_payload ?? DEFAULT_MAX_PAYLOAD);
          if (reply.code !== 'OK') {
            span.setStatus({ code: SpanStatusCode.ERROR, message: reply.code });
            span.setAttribute('vmcp.error_code', reply.code);
          }
          try {
            msg.respond(reply.data);
          } catch (err) {
            // The connection is closing: the caller sees its own timeout.
            this.logger.warn({ err: (err as Error).message, subject: label }, 'bus API reply not sent');
          }
          metrics().bus.handled(label, reply.code, secondsSince(started));
        } finally {
          span.end();
        }
      },
    );
  }

  /**
   * Leaves the queue group first (NATS hands new requests to the other replicas), then lets
   * what reached this replica reply, at most VmcpConfig.drainTimeoutMs, before the rest of
   * the edge shuts down.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    if (subscription && !subscription.isClosed()) await subscription.drain().catch(() => undefined);
    if (!(await this.inFlight.idle(this.config.drainTimeoutMs))) this.logger.warn({ in_flight: this.inFlight.size }, 'bus API requests still in flight at shutdown');
  }
}
