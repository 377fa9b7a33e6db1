import { context, propagation, SpanKind, SpanStatusCode, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import {
  connect,
  headers as natsHeaders,
  NoRespondersError,
  RequestError,
  TimeoutError,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import {
  ErrorReply,
  isVmcpError,
  VmcpError,
  type BusEvent,
  type Rpc,
  type RpcReply,
  type RpcRequest,
  type RpcRequestParsed,
} from '@vmcp/contracts';
import { metrics, secondsSince, tracer } from '@vmcp/telemetry';
import type { z } from 'zod';
import { coalesceWrites } from './coalesced-writes.js';
import { skipSettledRequestErrors } from './settled-requests.js';

const headerSetter: TextMapSetter<MsgHdrs> = { set: (h, k, v) => h.set(k, v) };
export const natsHeaderGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (h) => (h ? h.keys() : []),
  get: (h, k) => (h?.has(k) ? h.get(k) : undefined),
};

/**
 * The reply-subject prefix of one service's connections. Each NATS user may subscribe to
 * its own prefix only (infra/k8s/base/nats/permissions.conf), so no service can read the replies
 * another one receives, such as the credentials the vault sends the executor.
 */
export function serviceInbox(service: string): string {
  return `_INBOX_${service}`;
}

export interface BusOptions {
  readonly url: string;
  readonly name: string;
  readonly user?: string;
  readonly password?: string;
  /** Default timeout of every request, in milliseconds. */
  readonly timeoutMs: number;
  /** Prefix of this client's reply subjects (default `_INBOX`), for users allowed only their own inboxes. */
  readonly inboxPrefix?: string;
  /** Replicas of the JetStream streams and KV buckets made through this client (VMCP_JETSTREAM_REPLICAS; default 1). */
  readonly jetstreamReplicas?: number;
}

export interface RequestOptions {
  readonly timeoutMs?: number;
  /** One more subject token after the RPC's subject (e.g. an execution id): only the responder for it answers. */
  readonly token?: string;
  /** Aborting it fails the request at once with CANCELLED (the responder may still be working). */
  readonly signal?: AbortSignal;
}

/** Short form of a zod error for an error message: paths and reasons, never the values. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * The one typed NATS client: validates what it sends and what it gets back, carries
 * the trace context in headers, puts a timeout on every request, and turns error
 * replies and transport failures into VmcpError with a stable code.
 */
export class Bus {
  // The client keeps its server while it reconnects, so only the status events tell a
  // connection that is down from one that is up (readiness).
  private connected = true;

  private constructor(
    readonly connection: NatsConnection,
    private readonly timeoutMs: number,
    /** Replicas of the streams and buckets made through this client (ensureStream, ensureBucket). */
    readonly jetstreamReplicas: number,
  ) {
    void this.watchStatus().catch(() => {
      // The status stream ends with the connection; nothing to report after that.
    });
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.connection.status()) {
      if (s.type === 'disconnect') this.connected = false;
      else if (s.type === 'reconnect') this.connected = true;
    }
  }

  static async connect(options: BusOptions): Promise<Bus> {
    const nc = await connect({
      servers: options.url,
      name: options.name,
      user: options.user,
      pass: options.password,
      ...(options.inboxPrefix ? { inboxPrefix: options.inboxPrefix } : {}),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      // Capturing an async stack for every request costs more than the request itself.
      noAsyncTraces: true,
    });
    coalesceWrites(nc);
    skipSettledRequestErrors();
    return new Bus(nc, options.timeoutMs, options.jetstreamReplicas ?? 1);
  }

  async request<R extends Rpc>(rpc: R, payload: RpcRequest<R>, options: RequestOptions = {}): Promise<RpcReply<R>> {
    const parsed = rpc.request.safeParse(payload);
    if (!parsed.success) {
      throw new VmcpError('INVALID_ARGUMENT', describeZodError(parsed.error));
    }
    const timeout = options.timeoutMs ?? this.timeoutMs;
    return tracer().startActiveSpan(
      `${rpc.subject} request`,
      { kind: SpanKind.CLIENT, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': rpc.subject } },
      async (span) => {
        const started = performance.now();
        let failure: VmcpError | undefined;
        try {
          const h = natsHeaders();
          propagation.inject(context.active(), h, headerSetter);
          const sent = this.connection.request(subjectOf(rpc, options.token), JSON.stringify(parsed.data), { timeout, headers: h });
          const msg = await (options.signal ? untilAborted(sent, options.signal) : sent);
          const body: unknown = msg.json();
          const failure = ErrorReply.safeParse(body);
          if (failure.success) throw VmcpError.fromBody(failure.data.error);
          const reply = rpc.reply.safeParse(body);
          if (!reply.success) {
            throw new VmcpError('INTERNAL', `malformed reply on ${rpc.subject}: ${describeZodError(reply.error)}`);
          }
          return reply.data as RpcReply<R>;
        } catch (err) {
          const error = toVmcpError(err, rpc.subject, timeout);
          failure = error;
          span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
          span.setAttribute('vmcp.error_code', error.code);
          throw error;
        } finally {
          metrics().bus.request(rpc.subject, secondsSince(started), failure);
          span.end();
        }
      },
    );
  }

  /** `token`: one more subject token after the event's subject (e.g. an execution id), so only its listener gets it. */
  publish<E extends BusEvent>(event: E, payload: z.input<E['payload']>, options: { token?: string } = {}): void {
    const data = event.payload.parse(payload);
    this.connection.publish(subjectOf(event, options.token), JSON.stringify(data));
  }

  /** Listens to an event; malformed payloads are dropped (and counted by the caller's handler never running). */
  /** `queue`: one member of the group gets each event (work to do once), instead of every subscriber (caches to drop). */
  /** `token`: listen to the event under this one extra subject token only (see publish). */
  subscribe<E extends BusEvent>(event: E, handler: (payload: z.output<E['payload']>) => void, options: { queue?: string; token?: string } = {}): Subscription {
    return this.connection.subscribe(subjectOf(event, options.token), {
      ...(options.queue ? { queue: options.queue } : {}),
      callback: (err, msg) => {
        if (err) return;
        let body: unknown;
        try {
          body = msg.json();
        } catch {
          return;
        }
        const parsed = event.payload.safeParse(body);
        if (parsed.success) handler(parsed.data as z.output<E['payload']>);
      },
    });
  }

  /**
   * Answers one RPC under one extra subject token (e.g. an execution id) until unsubscribed,
   * as every responder does (answerRpc): every request gets a reply, a typed error when it
   * does not parse or the handler fails. No queue group, unlike the services' responders:
   * the subject names one thing only this subscriber holds (the edge's call, say).
   */
  serve<R extends Rpc>(rpc: R, token: string, handler: (request: RpcRequestParsed<R>) => Promise<RpcReply<R>>): Subscription {
    return this.connection.subscribe(subjectOf(rpc, token), {
      callback: (err, msg) => {
        if (err || !msg.reply) return;
        void answerRpc(rpc, requestData(msg), msg.headers, handler).then((body) => {
          try {
            msg.respond(JSON.stringify(body));
          } catch {
            // The connection is closing: the requester times out.
          }
        });
      },
    });
  }

  /** Resolves once the server has everything published so far (so a reply sent on another connection cannot overtake it). */
  flush(): Promise<void> {
    return this.connection.flush();
  }

  /** The largest message the server takes (its `max_payload`; 1 MiB, NATS's default, before it said). */
  maxPayloadBytes(): number {
    return this.connection.info?.max_payload ?? 1024 * 1024;
  }

  isConnected(): boolean {
    return this.connected && !this.connection.isClosed() && this.connection.getServer() !== '';
  }

  async close(): Promise<void> {
    if (!this.connection.isClosed()) await this.connection.drain();
  }
}

/** A request whose body is not JSON (answerRpc refuses it as INVALID_ARGUMENT). */
export const MALFORMED_REQUEST = Symbol('malformed');

/** A request's body: its JSON, `{}` when empty, MALFORMED_REQUEST when not JSON. */
export function requestData(msg: Msg): unknown {
  try {
    return msg.data.length ? msg.json() : {};
  } catch {
    return MALFORMED_REQUEST;
  }
}

/**
 * Runs one request handler: validates the request against the contract, continues the
 * caller's trace, validates the reply, and turns any failure into a typed error reply.
 */
export async function answerRpc<R extends Rpc>(
  rpc: R,
  data: unknown,
  headers: MsgHdrs | undefined,
  handle: (request: RpcRequestParsed<R>) => Promise<RpcReply<R>> | RpcReply<R>,
): Promise<RpcReply<R> | ErrorReply> {
  const parent = propagation.extract(context.active(), headers, natsHeaderGetter);
  return tracer().startActiveSpan(
    `${rpc.subject} process`,
    { kind: SpanKind.SERVER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': rpc.subject } },
    parent,
    async (span) => {
      const started = performance.now();
      let code = 'OK';
      try {
        if (data === MALFORMED_REQUEST) throw new VmcpError('INVALID_ARGUMENT', 'request body is not valid JSON');
        const request = rpc.request.safeParse(data);
        if (!request.success) throw new VmcpError('INVALID_ARGUMENT', describeZodError(request.error));
        const reply = await handle(request.data as RpcRequestParsed<R>);
        const checked = rpc.reply.safeParse(reply);
        if (!checked.success) {
          throw new VmcpError('INTERNAL', `reply does not match ${rpc.subject}: ${describeZodError(checked.error)}`);
        }
        return checked.data as RpcReply<R>;
      } catch (err) {
        const error = isVmcpError(err) ? err : new VmcpError('INTERNAL', 'internal error');
        code = error.code;
        if (!isVmcpError(err)) span.recordException(err instanceof Error ? err : new Error(String(err)));
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
        span.setAttribute('vmcp.error_code', error.code);
        return { error: error.toBody() };
      } finally {
        metrics().bus.handled(rpc.subject, code, secondsSince(started));
        span.end();
      }
    },
  );
}

/** A single NATS token: no dots, spaces or wildcards, so it can neither widen nor leave the subject. */
const SUBJECT_TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

/** The request's reply, unless `signal` aborts first (CANCELLED). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new VmcpError('CANCELLED', 'the request was cancelled'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new VmcpError('CANCELLED', 'the request was cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function subjectOf(event: { readonly subject: string }, token: string | undefined): string {
  if (token === undefined) return event.subject;
  if (!SUBJECT_TOKEN.test(token)) throw new VmcpError('INVALID_ARGUMENT', `not a subject token on ${event.subject}`);
  return `${event.subject}.${token}`;
}

function toVmcpError(err: unknown, subject: string, timeout: number): VmcpError {
  if (err instanceof VmcpError) return err;
  const service = subject.split('.')[1] ?? 'service';
  if (err instanceof TimeoutError || (err instanceof RequestError && err.cause instanceof TimeoutError)) {
    return new VmcpError('DEADLINE_EXCEEDED', `${service} did not answer within ${timeout} ms`);
  }
  if (err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders())) {
    return new VmcpError('UNAVAILABLE', `${service} is unavailable`);
  }
  if (err instanceof SyntaxError) return new VmcpError('INTERNAL', `unreadable reply from ${service}`);
  return new VmcpError('UNAVAILABLE', `${service} could not be reached`);
}
