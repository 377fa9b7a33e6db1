import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { API_KEY_HEADER, BUS_SUBJECTS, busSubjectOf } from './bus.js';
import { statusOfCode, VmcpApiError, VmcpConnectionError, VmcpError, VmcpTimeoutError } from './errors.js';
import { IDEMPOTENT_METHODS, retryDelayAfter } from './retry.js';
import { ROUTES, type RouteName } from './routes.js';
import { errorBodyOf, type Call, type Requester } from './transport.js';

export interface NatsTransportOptions {
  readonly nats: NatsConnection;
  readonly apiKey: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
}

export interface BusRequestOptions {
  /** Safe to send again after a timeout or a retryable error (reads, revocations, acks). */
  readonly idempotent: boolean;
  /** This request's limit instead of the client's (a long poll adds its own wait). */
  readonly timeoutMs?: number;
  /** Stops waiting (and retrying): the request fails with the signal's reason. */
  readonly signal?: AbortSignal;
}

type NatsCore = typeof import('@nats-io/nats-core');
let natsCore: Promise<NatsCore> | undefined;

/**
 * nats-core, loaded on the first NATS request only: it builds the request's headers. The
 * rest of the SDK imports nothing of NATS at run time, so HTTP users need no NATS package.
 */
function loadNatsCore(): Promise<NatsCore> {
  natsCore ??= import('@nats-io/nats-core').catch((err: unknown) => {
    natsCore = undefined;
    throw new VmcpError('the NATS transport needs the package @nats-io/nats-core (npm install @nats-io/nats-core)', { cause: err });
  });
  return natsCore;
}

/**
 * The NATS path of the SDK, beside the HTTP one: each SDK method the bus API offers is one
 * request on its `vmcp.api.v1.*` subject, with the API key in the `Vmcp-Api-Key` header and
 * the REST call's path parameters, query and body as one flat JSON object. Replies are the
 * REST reply bodies, so the resources parse them alike; every failure becomes the VmcpError
 * the HTTP transport would throw. Calls the bus API lacks fail at once, never by silence.
 */
export class NatsTransport implements Requester {
  // Private, so logging the client never shows the key.
  readonly #options: NatsTransportOptions;

  constructor(options: NatsTransportOptions) {
    this.#options = options;
  }

  /** The client's limit per request. */
  get timeoutMs(): number {
    return this.#options.timeoutMs;
  }

  json<T>(name: RouteName, call: Call = {}): Promise<T> {
    const subject = busSubjectOf(name);
    if (!subject) return Promise.reject(notOverNats(name));
    // Path parameters, query and body at the top level, as the bus API takes them.
    const payload = { ...call.params, ...call.query, ...(call.body as Record<string, unknown> | undefined) };
    return this.request<T>(subject, payload, { idempotent: IDEMPOTENT_METHODS.has(ROUTES[name].method) });
  }

  // The export is a streamed HTTP reply; the bus API has no counterpart.
  // eslint-disable-next-line require-yield
  async *ndjson(name: RouteName): AsyncGenerator<unknown, void, undefined> {
    throw notOverNats(name);
  }

  /**
   * Sends one request and returns its reply, retrying (idempotent requests only) after a
   * timeout, no responders, or a code the HTTP transport would retry the status of.
   */
  async request<T>(subject: string, payload: object, options: BusRequestOptions): Promise<T> {
    const data = JSON.stringify(payload);
    for (let retry = 1; ; retry++) {
      try {
        return await this.#attempt<T>(subject, data, options);
      } catch (err) {
        const delay = options.idempotent && retry <= this.#options.maxRetries ? retryDelayAfter(err, retry) : undefined;
        if (delay === undefined) throw err;
        await sleep(delay, options.signal);
      }
    }
  }

  async #attempt<T>(subject: string, data: string, options: BusRequestOptions): Promise<T> {
    options.signal?.throwIfAborted();
    const { headers } = await loadNatsCore();
    const h = headers();
    h.set(API_KEY_HEADER, this.#options.apiKey);
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs;
    let msg: Msg;
    try {
      msg = await untilAborted(this.#options.nats.request(subject, data, { timeout: timeoutMs, headers: h }), options.signal);
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw this.#failure(subject, err, timeoutMs);
    }
    let value: unknown;
    try {
      value = JSON.parse(msg.string());
    } catch {
      throw new VmcpError(`${subject}: the reply is not JSON`);
    }
    const error = errorBodyOf(value);
    if (error) throw new VmcpApiError(statusOfCode(error.code), error.code, this.#redact(`${subject}: ${error.message}`));
    return value as T;
  }

  /** The VmcpError for what nats.js threw; it names the failure by class name, as nats.js is only a type import here. */
  #failure(subject: string, err: unknown, timeoutMs: number): VmcpError {
    const names = causeNames(err);
    if (names.has('TimeoutError')) {
      // Unlike a closed HTTP request, a request given up on does not cancel a tool call on the edge.
      const running = subject === BUS_SUBJECTS['tools.execute'] ? ' (the call may still run to its deadline; the audit log has its outcome)' : '';
      return new VmcpTimeoutError(`${subject}: no reply within ${timeoutMs} ms${running}`);
    }
    if (names.has('NoResponders') || names.has('NoRespondersError')) {
      return new VmcpConnectionError(`${subject}: nothing answers it on this NATS (is the edge up, serving the bus API?)`, { cause: err });
    }
    if (names.has('PermissionViolationError')) {
      // Not retried: only a change of the NATS user's permissions helps.
      return new VmcpError(`${subject}: NATS refused the request; the connection's user needs the bus API's permissions (docs/bus-api.md)`, { cause: err });
    }
    if (names.has('InvalidArgumentError')) {
      // nats.js refuses locally, e.g. a payload over the server's max_payload: sending it again cannot help.
      return new VmcpError(this.#redact(`${subject}: ${err instanceof Error ? err.message : String(err)}`), { cause: err });
    }
    if (names.has('ClosedConnectionError') || names.has('DrainingConnectionError')) {
      return new VmcpConnectionError(`${subject}: the NATS connection is closed`, { cause: err });
    }
    const message = err instanceof Error ? err.message : String(err);
    return new VmcpConnectionError(this.#redact(`${subject}: ${message}`), { cause: err });
  }

  /** Server messages never hold a secret by design; this keeps the key out even if one ever echoed it. */
  #redact(message: string): string {
    return message.split(this.#options.apiKey).join('[redacted]');
  }
}

function notOverNats(name: string): VmcpError {
  return new VmcpError(`${name} is not available over NATS: the bus API offers only the methods of VmcpTenantClient and events (use new Vmcp({ baseUrl }) for the rest)`);
}

/** The `name` of an error and of each of its causes. */
function causeNames(err: unknown): Set<string> {
  const names = new Set<string>();
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) names.add(e.name);
  return names;
}

/** The promise, or the signal's reason as soon as it aborts (the request itself cannot be recalled). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
