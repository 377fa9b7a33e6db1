import { createHash, timingSafeEqual } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Counter, Histogram, Meter, ObservableGauge, ObservableResult } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, InstrumentType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { BoundedLabel, errorCodeOf, oneOf } from './metric-labels.js';

// Why the OpenTelemetry metrics SDK and its Prometheus serializer rather than prom-client:
// it is the SDK vmcp already uses for traces (same resource, same release train, already
// installed with sdk-node), the serializer writes the Prometheus text format we serve on
// the ports we already have (no exporter server of its own), and the same instruments can
// later go out over OTLP with a second reader, without touching any service.

/**
 * Collects on each scrape. Counters and histograms are cumulative, as Prometheus expects;
 * observed gauges are delta, so a gauge whose callback observed nothing this time (value
 * unknown, or the observer gone) is absent instead of repeating its last value forever.
 */
class ScrapeReader extends MetricReader {
  constructor() {
    super({
      aggregationTemporalitySelector: (type) =>
        type === InstrumentType.OBSERVABLE_GAUGE ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
    });
  }

  // Nothing is buffered or pushed: a scrape reads the state when it comes.
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Content type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Latencies from a fraction of a millisecond (a bus hop) to a minute (a slow tool). */
const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const BATCH_EVENTS = [1, 2, 5, 10, 20, 50, 100, 200, 500];

/** Tool names beyond this many distinct ones are counted as "other" (tool names are tenant-defined). */
export const DEFAULT_MAX_TOOL_LABELS = 100;

export type ToolCallStatus = 'SUCCESS' | 'ERROR' | 'DENIED';
export type ToolCallHop = 'decide' | 'audit_started' | 'execute' | 'total';
export type OAuthRefreshOutcome = 'refreshed' | 'refused' | 'failed';

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
const AUTH_TYPES = ['oauth2', 'api_key', 'bearer_token', 'basic', 'custom_headers', 'none'] as const;

function seconds(meter: Meter, name: string, description: string): Histogram {
  return meter.createHistogram(name, { description, advice: { explicitBucketBoundaries: SECONDS } });
}

/** The edge's tools/call: one count per call with its outcome, and the time of each hop. */
export class ToolCallMetrics {
  private readonly calls: Counter;
  private readonly duration: Histogram;
  private readonly cache: Counter;
  private readonly clientRequests: Counter;
  private readonly tools: BoundedLabel;
  private readonly connectors = new BoundedLabel(50);

  constructor(meter: Meter, maxTools: number) {
    this.tools = new BoundedLabel(maxTools, 'unresolved');
    this.calls = meter.createCounter('vmcp_tool_calls_total', { description: 'tools/call requests by tool, connector, outcome and policy decision' });
    this.duration = seconds(meter, 'vmcp_tool_call_duration_seconds', 'Time of each hop of a tools/call (decide, audit_started, execute) and of the whole call (total)');
    this.clientRequests = meter.createCounter('vmcp_client_requests_total', {
      description: "Requests an upstream put to the agent during a call (sampling, elicitation), by method and outcome (edge: answered, refused, cancelled, failed; executor: withheld, over_limit, no_call)",
    });
    this.cache = meter.createCounter('vmcp_edge_cache_lookups_total', { description: "Edge cache lookups of users' tool lists and allow decisions, by kind (tools, decision) and result (hit, miss)" });
  }

  cacheLookup(kind: 'tools' | 'decision', hit: boolean): void {
    this.cache.add(1, { kind, result: hit ? 'hit' : 'miss' });
  }

  /**
   * `tool` is null when policy did not resolve the name (an unmapped or unknown tool): the
   * name the agent sent is then not a label, or any agent could create series at will.
   */
  count(o: { tool: string | null; connector: string | null; status: ToolCallStatus }): void {
    this.calls.add(1, {
      tool: this.tools.value(o.tool),
      connector: this.connectors.value(o.connector),
      status: o.status,
      decision: o.status === 'DENIED' ? 'deny' : 'allow',
    });
  }

  hop(hop: ToolCallHop, durationSeconds: number): void {
    this.duration.record(durationSeconds, { hop });
  }

  /** One request an upstream put to the agent during a call (sampling, elicitation), and how it ended at the edge. */
  clientRequest(method: ClientRequestMethod, outcome: ClientRequestOutcome): void {
    this.clientRequests.add(1, { method, outcome });
  }
}

/** The server-to-client requests vmcp relays. */
export type ClientRequestMethod = 'sampling/createMessage' | 'elicitation/create';
/**
 * How a relayed request ended. At the edge: `answered`, `refused` (the agent answered with an
 * error), `cancelled` (the call ended or the upstream gave up first), `failed` (it could not
 * be sent). At the executor, before the edge: `withheld` (it carried the credential),
 * `over_limit` (past the per-call bound), `no_call` (on no relaying call's stream).
 */
export type ClientRequestOutcome = 'answered' | 'refused' | 'cancelled' | 'failed' | 'withheld' | 'over_limit' | 'no_call';

/** The edge's HTTP API, by route template (never the raw path, which holds ids). */
export class HttpMetrics {
  private readonly requests: Counter;
  private readonly duration: Histogram;
  private readonly routes = new BoundedLabel(200, 'unmatched');

  constructor(meter: Meter) {
    this.requests = meter.createCounter('vmcp_http_requests_total', { description: 'HTTP requests by method, route template and status code' });
    this.duration = seconds(meter, 'vmcp_http_request_duration_seconds', 'HTTP request time by method and route template');
  }

  /** `route` is the matched route's template (e.g. /api/v1/connections/:name), null when none matched. */
  request(o: { method: string; route: string | null; status: number; durationSeconds: number }): void {
    const labels = { method: oneOf(o.method.toUpperCase(), HTTP_METHODS), route: this.routes.value(o.route) };
    this.requests.add(1, { ...labels, status: String(Math.trunc(o.status)).slice(0, 3) });
    this.duration.record(o.durationSeconds, labels);
  }
}

/** NATS request/reply on both ends, by subject (a fixed set: the contracts' constants). */
export class BusMetrics {
  private readonly requestDuration: Histogram;
  private readonly requestErrors: Counter;
  private readonly requestTimeouts: Counter;
  private readonly handlerDuration: Histogram;
  private readonly droppedMessages: Counter;
  private readonly subjects = new BoundedLabel(300);
  private readonly codes = new BoundedLabel(60);

  constructor(meter: Meter) {
    this.requestDuration = seconds(meter, 'vmcp_nats_request_duration_seconds', 'Time from sending a bus request to its reply (or failure), by subject');
    this.requestErrors = meter.createCounter('vmcp_nats_request_errors_total', { description: 'Bus requests that failed, by subject and error code (timeouts included)' });
    this.requestTimeouts = meter.createCounter('vmcp_nats_request_timeouts_total', { description: 'Bus requests that got no reply in time, by subject' });
    this.handlerDuration = seconds(meter, 'vmcp_nats_handler_duration_seconds', 'Time a responder took to answer, by subject and result code (OK or an error code)');
    this.droppedMessages = meter.createCounter('vmcp_nats_dropped_messages_total', { description: 'Messages a responder could not answer, by subject and reason (no_reply_subject)' });
  }

  /** The caller's side; `error` is what the request failed with, undefined on success. */
  request(subject: string, durationSeconds: number, error?: unknown): void {
    const s = this.subjects.value(subject);
    this.requestDuration.record(durationSeconds, { subject: s });
    if (error === undefined) return;
    const code = this.codes.value(errorCodeOf(error));
    this.requestErrors.add(1, { subject: s, code });
    if (code === 'DEADLINE_EXCEEDED') this.requestTimeouts.add(1, { subject: s });
  }

  /** A message a responder dropped unanswered (a request published without a reply subject). */
  dropped(subject: string, reason: 'no_reply_subject'): void {
    this.droppedMessages.add(1, { subject: this.subjects.value(subject), reason });
  }

  /** The responder's side; `code` is OK or the error code of the reply. */
  handled(subject: string, code: string, durationSeconds: number): void {
    this.handlerDuration.record(durationSeconds, { subject: this.subjects.value(subject), code: this.codes.value(code) });
  }
}

/** The vault: decryptions, OAuth refreshes, authorization links and callbacks. */
export class VaultMetrics {
  private readonly decrypts: Counter;
  private readonly refreshes: Counter;
  private readonly links: Counter;
  private readonly callbacks: Counter;
  private readonly codes = new BoundedLabel(60);

  constructor(meter: Meter) {
    this.decrypts = meter.createCounter('vmcp_vault_credential_decrypts_total', { description: 'Credential decryptions by auth type and result (ok, failed)' });
    this.refreshes = meter.createCounter('vmcp_vault_oauth_refreshes_total', { description: 'OAuth token refreshes by outcome (refreshed, refused by the provider, failed)' });
    this.links = meter.createCounter('vmcp_vault_oauth_links_total', { description: 'OAuth authorization links by result (created, or the error code)' });
    this.callbacks = meter.createCounter('vmcp_vault_oauth_callbacks_total', { description: 'OAuth provider callbacks by outcome (authorized, denied, or the error code)' });
  }

  decrypt(authType: string, result: 'ok' | 'failed'): void {
    this.decrypts.add(1, { auth_type: oneOf(authType, AUTH_TYPES), result });
  }

  refresh(outcome: OAuthRefreshOutcome): void {
    this.refreshes.add(1, { outcome });
  }

  /** Counts a link's creation by how it ended; the promise is returned unchanged. */
  async link<T>(work: Promise<T>): Promise<T> {
    try {
      const created = await work;
      this.links.add(1, { result: 'created' });
      return created;
    } catch (err) {
      this.links.add(1, { result: this.codes.value(errorCodeOf(err)) });
      throw err;
    }
  }

  /** Counts a provider callback by its outcome; the promise is returned unchanged. */
  async callback<T extends { outcome: string }>(work: Promise<T>): Promise<T> {
    try {
      const done = await work;
      this.callbacks.add(1, { outcome: oneOf(done.outcome, ['authorized', 'denied']) });
      return done;
    } catch (err) {
      this.callbacks.add(1, { outcome: this.codes.value(errorCodeOf(err)) });
      throw err;
    }
  }
}

/** How far the audit writer is behind, as the durable consumer reports it. */
export interface AuditConsumerState {
  /** Messages in the stream not yet delivered to the consumer (JetStream num_pending). */
  readonly pending: number;
  /** Delivered but not yet acknowledged (num_ack_pending). */
  readonly ackPending: number;
}

/** The audit service: what it wrote, in what batches, and how far behind it is. */
export class AuditMetrics {
  private readonly written: Counter;
  private readonly failed: Counter;
  private readonly batchSize: Histogram;
  private readonly batchDuration: Histogram;
  private readonly pending: ObservableGauge;
  private readonly ackPending: ObservableGauge;
  private readonly eventsFiltered: ObservableGauge;

  constructor(meter: Meter) {
    this.written = meter.createCounter('vmcp_audit_events_written_total', { description: 'Audit events stored (or found already stored, on redelivery) and acknowledged' });
    this.failed = meter.createCounter('vmcp_audit_events_failed_total', { description: 'Audit events whose batch could not be stored (redelivered later)' });
    this.batchSize = meter.createHistogram('vmcp_audit_write_batch_size_events', { description: 'Events per stored batch', advice: { explicitBucketBoundaries: BATCH_EVENTS } });
    this.batchDuration = seconds(meter, 'vmcp_audit_write_duration_seconds', 'Time to store one batch (one transaction)');
    this.pending = meter.createObservableGauge('vmcp_audit_consumer_pending_messages', { description: 'Audit events in the stream not yet delivered to the writer (lag)' });
    this.ackPending = meter.createObservableGauge('vmcp_audit_consumer_ack_pending_messages', { description: 'Audit events delivered to the writer and not yet acknowledged' });
    this.eventsFiltered = meter.createObservableGauge('vmcp_audit_tool_call_events_filtered', {
      description: '1 while tool-call events are published only for the tenants that read them; 0 while the event-interest bucket cannot be read and they are published for every tenant',
    });
  }

  /** Reports at each scrape whether tool-call events are published for reading tenants only. Returns the unsubscribe. */
  observeEventFilter(filtered: () => boolean): () => void {
    const callback = (r: ObservableResult) => r.observe(filtered() ? 1 : 0);
    this.eventsFiltered.addCallback(callback);
    return () => this.eventsFiltered.removeCallback(callback);
  }

  batchWritten(events: number, durationSeconds: number): void {
    this.written.add(events);
    this.batchSize.record(events);
    this.batchDuration.record(durationSeconds);
  }

  batchFailed(events: number): void {
    this.failed.add(events);
  }

  /** Reports the consumer's state at each scrape; undefined reports nothing (unknown, not zero). Returns the unsubscribe. */
  observeConsumer(read: () => AuditConsumerState | undefined): () => void {
    const pending = (r: ObservableResult) => {
      const s = read();
      if (s) r.observe(s.pending);
    };
    const ackPending = (r: ObservableResult) => {
      const s = read();
      if (s) r.observe(s.ackPending);
    };
    this.pending.addCallback(pending);
    this.ackPending.addCallback(ackPending);
    return () => {
      this.pending.removeCallback(pending);
      this.ackPending.removeCallback(ackPending);
    };
  }
}

/** The executor: upstream calls and the sessions it keeps open. */
export class ExecutorMetrics {
  private readonly duration: Histogram;
  private readonly errors: Counter;
  private readonly sessions: ObservableGauge;
  private readonly connectors = new BoundedLabel(50);
  private readonly codes = new BoundedLabel(60);

  constructor(meter: Meter) {
    this.duration = seconds(meter, 'vmcp_executor_upstream_call_duration_seconds', 'Time of one tool call upstream (credential and session opening included), by connector and result');
    this.errors = meter.createCounter('vmcp_executor_upstream_errors_total', { description: 'Tool calls upstream that failed, by connector and error code' });
    this.sessions = meter.createObservableGauge('vmcp_executor_upstream_sessions', { description: 'Upstream sessions pooled, by connector' });
  }

  /** `error` undefined: the upstream answered (`toolError`: with an isError result). */
  call(connector: string, durationSeconds: number, outcome: { toolError?: boolean; error?: unknown }): void {
    const c = this.connectors.value(connector);
    if (outcome.error !== undefined) {
      const code = this.codes.value(errorCodeOf(outcome.error));
      this.duration.record(durationSeconds, { connector: c, result: code });
      this.errors.add(1, { connector: c, code });
      return;
    }
    this.duration.record(durationSeconds, { connector: c, result: outcome.toolError ? 'tool_error' : 'ok' });
  }

  /** Reports pooled sessions per connector at each scrape. Returns the unsubscribe. */
  observeSessions(read: () => Iterable<{ connector: string; sessions: number }>): () => void {
    const callback = (r: ObservableResult) => {
      for (const { connector, sessions } of read()) r.observe(sessions, { connector: this.connectors.value(connector) });
    };
    this.sessions.addCallback(callback);
    return () => this.sessions.removeCallback(callback);
  }
}

/** Policy: tool discoveries that failed, and the (connection, account) pairs it retries in the background. */
export class PolicyMetrics {
  private readonly failures: Counter;
  private readonly recoveries: Counter;
  private readonly retrying: ObservableGauge;
  private readonly codes = new BoundedLabel(60);

  constructor(meter: Meter) {
    this.failures = meter.createCounter('vmcp_policy_tool_discovery_failures_total', {
      description: "Tool discoveries that failed (the connection's tools left out of the user's list), by error code",
    });
    this.recoveries = meter.createCounter('vmcp_policy_tool_discovery_recoveries_total', { description: 'Failed tool discoveries that worked again (agents told to list again)' });
    this.retrying = meter.createObservableGauge('vmcp_policy_tool_discovery_retrying', { description: '(connection, account) pairs whose failed discovery is retried in the background' });
  }

  discoveryFailed(error: unknown): void {
    this.failures.add(1, { code: this.codes.value(errorCodeOf(error)) });
  }

  discoveryRecovered(): void {
    this.recoveries.add(1);
  }

  /** Reports the pairs being retried at each scrape. Returns the unsubscribe. */
  observeRetrying(read: () => number): () => void {
    const callback = (r: ObservableResult) => r.observe(read());
    this.retrying.addCallback(callback);
    return () => this.retrying.removeCallback(callback);
  }
}

/** Memory and event-loop delay of the process: the first things to look at when latency grows. */
function observeProcess(meter: Meter): void {
  // Sampled every 50 ms: at Node's default of 10 ms, the sampling timer alone woke every idle
  // service 100 times a second (strace), CPU a 2-core host shares with the calls.
  const loop = monitorEventLoopDelay({ resolution: 50 });
  loop.enable();
  meter
    .createObservableGauge('vmcp_process_resident_memory_bytes', { description: 'Resident set size of the process' })
    .addCallback((r) => r.observe(process.memoryUsage.rss()));
  meter
    .createObservableGauge('vmcp_process_heap_used_bytes', { description: 'V8 heap in use' })
    .addCallback((r) => r.observe(process.memoryUsage().heapUsed));
  meter
    .createObservableGauge('vmcp_process_event_loop_delay_p99_seconds', { description: '99th percentile of the event-loop delay since the previous scrape' })
    .addCallback((r) => {
      // monitorEventLoopDelay reports nanoseconds; a histogram with no sample reports a huge min, so guard on count.
      if (loop.count > 0) r.observe(loop.percentile(99) / 1e9);
      loop.reset();
    });
}

export interface MetricsOptions {
  /** service.name of the target_info series, e.g. vmcp-edge. */
  readonly service?: string;
  readonly version?: string;
  readonly maxToolLabels?: number;
}

/**
 * Every instrument of one process, typed, with bounded labels; services only record.
 * Scraping serializes the current state in the Prometheus text format.
 */
export class VmcpMetrics {
  readonly service: string | undefined;
  readonly toolCalls: ToolCallMetrics;
  readonly http: HttpMetrics;
  readonly bus: BusMetrics;
  readonly vault: VaultMetrics;
  readonly audit: AuditMetrics;
  readonly executor: ExecutorMetrics;
  readonly policy: PolicyMetrics;
  private readonly reader = new ScrapeReader();
  private readonly provider: MeterProvider;
  // No prefix (names carry vmcp_), no timestamps, target_info kept, no otel_scope_* labels.
  private readonly serializer = new PrometheusSerializer(undefined, false, undefined, false, true);

  constructor(options: MetricsOptions = {}) {
    this.service = options.service;
    this.provider = new MeterProvider({
      resource: resourceFromAttributes({
        [ATTR_SERVICE_NAME]: options.service ?? 'vmcp',
        ...(options.version ? { [ATTR_SERVICE_VERSION]: options.version } : {}),
      }),
      readers: [this.reader],
    });
    const meter = this.provider.getMeter('vmcp');
    this.toolCalls = new ToolCallMetrics(meter, options.maxToolLabels ?? DEFAULT_MAX_TOOL_LABELS);
    this.http = new HttpMetrics(meter);
    this.bus = new BusMetrics(meter);
    this.vault = new VaultMetrics(meter);
    this.audit = new AuditMetrics(meter);
    this.executor = new ExecutorMetrics(meter);
    this.policy = new PolicyMetrics(meter);
    if (options.service) observeProcess(meter);
  }

  /** The current value of every instrument, in the Prometheus text exposition format. */
  async scrape(): Promise<string> {
    const { resourceMetrics } = await this.reader.collect();
    return this.serializer.serialize(resourceMetrics);
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

let current: VmcpMetrics | undefined;

/** The process's metrics; services record through it (`metrics().bus.request(…)`). */
export function metrics(): VmcpMetrics {
  return (current ??= new VmcpMetrics());
}

/**
 * Names the process's metrics after its service (startTelemetry calls it). The first
 * service started in a process keeps the registry, so several in-process test services
 * share one.
 */
export function startMetrics(options: MetricsOptions & { service: string }): VmcpMetrics {
  if (!current?.service) {
    void current?.shutdown();
    current = new VmcpMetrics(options);
  }
  return current;
}

/** Seconds since `start` (a performance.now() value). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}

/**
 * Whether a scrape may read the metrics: always when no token is configured, else only
 * with `Authorization: Bearer <token>` (compared in constant time).
 */
export function scrapeAllowed(authorization: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const given = /^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? '';
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}

