import { VmcpApiError, VmcpConnectionError, VmcpError, VmcpTimeoutError } from './errors.js';
import { ndjsonValues, type ReadDeadline } from './ndjson.js';
import { IDEMPOTENT_METHODS, parseRetryAfter, retryDelayAfter } from './retry.js';
import { ROUTES, type RouteName } from './routes.js';
import type { ErrorCode } from './types.js';

export interface TransportOptions {
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly fetch: typeof fetch;
  readonly userAgent: string;
}

type QueryValue = string | number | boolean | undefined;

/** What one SDK method sends: its path parameters, query and JSON body. */
export interface Call {
  /** Values for the `{…}` segments of the route's path; each is URL-encoded. */
  readonly params?: Readonly<Record<string, string>>;
  /** Query parameters; undefined ones are left out. */
  readonly query?: Readonly<Record<string, QueryValue>>;
  readonly body?: unknown;
}

/**
 * What the resources send their calls through: the HTTP transport below, or the NATS one
 * (nats-transport.ts), so a method has one body whichever way it travels.
 */
export interface Requester {
  /** Sends the call and returns its JSON reply. */
  json<T>(name: RouteName, call?: Call): Promise<T>;
  /** Sends the call and yields the JSON value of each line of its NDJSON reply. */
  ndjson(name: RouteName, call?: Call): AsyncGenerator<unknown, void, undefined>;
}

interface PreparedRequest {
  readonly method: string;
  readonly url: string;
  readonly init: RequestInit;
  readonly idempotent: boolean;
  /** `GET /api/v1/connections/x`: says which call failed; never holds the query or a header. */
  readonly label: string;
}

/**
 * The one HTTP path of the SDK: builds requests from the route table, sends them with a
 * timeout per attempt, retries what is safe to retry and turns every failure into a
 * VmcpError. The API key lives in a private field, so logging the client does not show it.
 */
export class Transport implements Requester {
  readonly #options: TransportOptions;

  constructor(options: TransportOptions) {
    this.#options = options;
  }

  /** Sends the call and returns its JSON reply. */
  async json<T>(name: RouteName, call: Call = {}): Promise<T> {
    const request = this.#prepare(name, call, 'application/json');
    return this.#retrying(request, async () => {
      const signal = AbortSignal.timeout(this.#options.timeoutMs);
      try {
        const res = await this.#options.fetch(request.url, { ...request.init, signal });
        // Read under the same signal: the timeout covers the whole reply, body included.
        const text = await res.text();
        if (!res.ok) throw this.#apiError(request, res, text);
        return parseJson<T>(text, request.label);
      } catch (err) {
        throw this.#failure(request, err, signal);
      }
    });
  }

  /**
   * Sends the call and yields the JSON value of each line of its NDJSON reply as it
   * arrives. The timeout here bounds each wait for the server (the headers, then every
   * chunk): a long export that keeps flowing must not be cut off at `timeoutMs`, a
   * stalled one must be. An error line `{"error": {code, message}}` (a failure after the
   * first line) is thrown.
   */
  async *ndjson(name: RouteName, call: Call = {}): AsyncGenerator<unknown, void, undefined> {
    const request = this.#prepare(name, call, 'application/x-ndjson');
    const { res, idle } = await this.#retrying(request, async () => {
      const idle = new IdleTimeout(this.#options.timeoutMs);
      try {
        const res = await this.#options.fetch(request.url, { ...request.init, signal: idle.signal });
        if (!res.ok) throw this.#apiError(request, res, await res.text());
        idle.disarm();
        return { res, idle };
      } catch (err) {
        idle.disarm();
        throw this.#failure(request, err, idle.signal);
      }
    });
    try {
      if (!res.body) return;
      for await (const value of ndjsonValues(res.body, idle)) {
        const error = errorBodyOf(value);
        if (error) throw this.#errorFrom(request, res.status, error.code, error.message);
        yield value;
      }
    } catch (err) {
      throw this.#failure(request, err, idle.signal);
    }
  }

  #prepare(name: RouteName, call: Call, accept: string): PreparedRequest {
    const route = ROUTES[name];
    const method = route.method.toUpperCase();
    const path = fillPath(route.path, call.params ?? {});
    const headers: Record<string, string> = { accept, 'user-agent': this.#options.userAgent };
    if (this.#options.apiKey) headers.authorization = `Bearer ${this.#options.apiKey}`;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    return {
      method,
      url: `${this.#options.baseUrl}${path}${queryString(call.query ?? {})}`,
      init: { method, headers, ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}) },
      idempotent: IDEMPOTENT_METHODS.has(route.method),
      label: `${method} ${path}`,
    };
  }

  /** Runs attempts until one succeeds, the failure is not worth repeating or the retries are used up. */
  async #retrying<T>(request: PreparedRequest, attempt: () => Promise<T>): Promise<T> {
    for (let retry = 1; ; retry++) {
      try {
        return await attempt();
      } catch (err) {
        const delay = this.#retryDelay(request, err, retry);
        if (delay === undefined) throw err;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  #retryDelay(request: PreparedRequest, err: unknown, retry: number): number | undefined {
    if (!request.idempotent || retry > this.#options.maxRetries) return undefined;
    return retryDelayAfter(err, retry);
  }

  /** The error to throw for whatever an attempt threw. */
  #failure(request: PreparedRequest, err: unknown, signal: AbortSignal): VmcpError {
    if (err instanceof VmcpError) return err;
    if (signal.aborted) return new VmcpTimeoutError(this.#redact(`${request.label}: no reply within ${this.#options.timeoutMs} ms`));
    return new VmcpConnectionError(this.#redact(`${request.label}: could not reach ${new URL(request.url).origin}`), { cause: err });
  }

  #apiError(request: PreparedRequest, res: Response, text: string): VmcpApiError {
    const error = errorBodyOf(parseOrUndefined(text));
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    // A reply that is not the API's (a proxy's error page) is described by its status alone.
    if (!error) return this.#errorFrom(request, res.status, codeOfStatus(res.status), `HTTP ${res.status} ${res.statusText}`.trim(), retryAfterMs);
    return this.#errorFrom(request, res.status, error.code, error.message, retryAfterMs);
  }

  #errorFrom(request: PreparedRequest, status: number, code: ErrorCode, message: string, retryAfterMs?: number): VmcpApiError {
    return new VmcpApiError(status, code, this.#redact(`${request.label}: ${message}`), retryAfterMs);
  }

  /** Server messages never hold a secret by design; this keeps the key out even if one ever echoed it. */
  #redact(message: string): string {
    const key = this.#options.apiKey;
    return key ? message.split(key).join('[redacted]') : message;
  }
}

/**
 * Aborts a request when one wait for the server lasts `ms`; armed from the start (for the
 * headers). Aborts with a TimeoutError, as AbortSignal.timeout does.
 */
class IdleTimeout implements ReadDeadline {
  readonly #controller = new AbortController();
  readonly #ms: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number) {
    this.#ms = ms;
    this.arm();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#controller.abort(new DOMException('no data in time', 'TimeoutError')), this.#ms);
  }

  disarm(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * Fills the `{…}` segments of a path, URL-encoded. "." and ".." are refused: URL parsing
 * would resolve them (even encoded) and send the request to another route.
 */
export function fillPath(path: string, params: Readonly<Record<string, string>>): string {
  return path.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (typeof value !== 'string' || value === '' || value === '.' || value === '..') {
      throw new VmcpError(`${name} must be a non-empty string other than "." and ".."`);
    }
    return encodeURIComponent(value);
  });
}

function queryString(query: Readonly<Record<string, QueryValue>>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

function parseJson<T>(text: string, label: string): T {
  if (text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new VmcpError(`${label}: the reply is not JSON`);
  }
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The `error` of an API error body, when the value is one. */
export function errorBodyOf(value: unknown): { code: ErrorCode; message: string } | undefined {
  if (typeof value !== 'object' || value === null || !('error' in value)) return undefined;
  const error = value.error;
  if (typeof error !== 'object' || error === null || !('code' in error) || typeof error.code !== 'string') return undefined;
  const message = 'message' in error && typeof error.message === 'string' ? error.message : error.code;
  return { code: error.code as ErrorCode, message };
}

/** The code the API itself uses for a status, for replies that did not come from it. */
function codeOfStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'INVALID_ARGUMENT';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'ALREADY_EXISTS';
    case 412:
      return 'FAILED_PRECONDITION';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 502:
    case 503:
      return 'UNAVAILABLE';
    case 504:
      return 'DEADLINE_EXCEEDED';
    default:
      return status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT';
  }
}
