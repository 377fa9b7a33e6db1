import type { Deadline } from '../shared/deadline.js';
import { StoppedError } from '../shared/deadline.js';
import { sanitizeUpstreamText } from '../shared/sanitize.js';
import {
  CredentialRefusedError,
  defaultErrorMessage,
  ProviderAnswerError,
  ProviderError,
  ProviderUnreachableError,
  ResponseTooLargeError,
} from './provider-errors.js';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelay, type RetryPolicy } from './retry.js';
import { requestUrl, type QueryValue } from './url.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One request to the provider, as a tool implementation writes it. */
export interface ProviderRequest {
  readonly method: HttpMethod;
  /**
   * A path template under the connection's base URL (`/repos/{owner}/{repo}/issues`, values
   * from `params`), or an absolute URL on the base URL (a provider's next-page link).
   */
  readonly path: string;
  /** Path parameters, each percent-encoded as one segment. */
  readonly params?: Readonly<Record<string, string | number>>;
  /** Query parameters; undefined and null are left out, arrays repeat the parameter. */
  readonly query?: Readonly<Record<string, QueryValue>>;
  /** Extra headers; they can never replace the credential's. */
  readonly headers?: Readonly<Record<string, string>>;
  /** A JSON body (sent as application/json). */
  readonly json?: unknown;
  /** A form body (application/x-www-form-urlencoded). */
  readonly form?: Readonly<Record<string, string>>;
  /** Any other body. */
  readonly body?: { readonly contentType: string; readonly data: string | Uint8Array };
  /** Whether repeating the request is safe; default: GET and HEAD are, others only in a tool marked idempotent. */
  readonly idempotent?: boolean;
  /** How to read a 2xx answer: JSON (default; empty → undefined), text, or bytes. */
  readonly responseType?: 'json' | 'text' | 'bytes';
}

export type RequestOptions = Omit<ProviderRequest, 'method' | 'path' | 'json'>;

export interface ProviderResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  /** The URL that answered (after same-API redirects). */
  readonly url: string;
}

/** What every tool implementation gets to call its provider with: one per call, bound to its credential and deadline. */
export interface ProviderHttp {
  /** The connection's API base (`settings.base_url`, else the connector's default). */
  readonly baseUrl: URL;
  /** Sends a request; a non-2xx answer throws ProviderError (after retries and the 401 refresh). */
  request<T = unknown>(request: ProviderRequest): Promise<ProviderResponse<T>>;
  get<T = unknown>(path: string, options?: RequestOptions): Promise<ProviderResponse<T>>;
  post<T = unknown>(path: string, json?: unknown, options?: RequestOptions): Promise<ProviderResponse<T>>;
  put<T = unknown>(path: string, json?: unknown, options?: RequestOptions): Promise<ProviderResponse<T>>;
  patch<T = unknown>(path: string, json?: unknown, options?: RequestOptions): Promise<ProviderResponse<T>>;
  delete<T = unknown>(path: string, options?: RequestOptions): Promise<ProviderResponse<T>>;
}

/** How a connector's provider speaks HTTP: declared once in its definition. */
export interface ProviderHttpConfig {
  /** The provider's name in messages ("GitHub"). */
  readonly provider: string;
  /** Headers on every request (Accept, API version, User-Agent). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The provider's message in an error answer; default: defaultErrorMessage. */
  readonly errorMessage?: (body: unknown, status: number) => string | undefined;
  /** A 2xx answer that is an error all the same (Slack's `{ok: false, error}`): its message, else undefined. */
  readonly answerError?: (body: unknown, response: ProviderResponse) => string | undefined;
  /**
   * A 2xx answer that refuses the credential (Slack's `{ok: false, error: "invalid_auth"}`
   * or `"token_expired"`): handled like a 401, so the credential is refreshed once.
   */
  readonly answerRefused?: (body: unknown, response: ProviderResponse) => boolean;
  /**
   * How long the provider asks to wait, read from its own headers when `Retry-After` is
   * absent (GitHub's `x-ratelimit-reset` when `x-ratelimit-remaining` is 0), in ms.
   */
  readonly rateLimitWait?: (status: number, headers: Headers, now: number) => number | undefined;
  /** Largest answer accepted (default 5 MiB). */
  readonly maxResponseBytes?: number;
  /** Budget of one attempt, within the call's deadline (default: the rest of the deadline). */
  readonly requestTimeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
}

/** The credential a client sends, and what to do when the provider refuses it. */
export interface RequestCredential {
  /** The headers carrying it now. */
  headers(): Readonly<Record<string, string>>;
  /** Every string that would reveal it, kept out of any provider text passed on. */
  secrets(): readonly string[];
  /** On a 401: whether a new credential is ready to retry with (an OAuth refresh). Asked at most once per call. */
  refused(): Promise<boolean>;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const MAX_PROVIDER_TEXT = 500;
const MAX_REDIRECTS = 3;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Statuses worth another attempt of a request that is safe to repeat. */
const TRANSIENT = new Set([408, 429, 500, 502, 503, 504]);

export interface ProviderHttpClientOptions {
  readonly baseUrl: URL;
  readonly config: ProviderHttpConfig;
  readonly credential: RequestCredential;
  readonly deadline: Deadline;
  /** The tool's idempotentHint: its non-GET requests may be repeated too. */
  readonly idempotentTool: boolean;
  /** For tests: the randomness of backoff. */
  readonly random?: () => number;
}

/** The verb shortcuts of ProviderHttp, over whatever `request` a client implements. */
export abstract class ProviderHttpVerbs implements ProviderHttp {
  abstract readonly baseUrl: URL;
  abstract request<T = unknown>(request: ProviderRequest): Promise<ProviderResponse<T>>;

  get<T>(path: string, options: RequestOptions = {}) {
    return this.request<T>({ ...options, method: 'GET', path });
  }
  post<T>(path: string, json?: unknown, options: RequestOptions = {}) {
    return this.request<T>({ ...options, method: 'POST', path, json });
  }
  put<T>(path: string, json?: unknown, options: RequestOptions = {}) {
    return this.request<T>({ ...options, method: 'PUT', path, json });
  }
  patch<T>(path: string, json?: unknown, options: RequestOptions = {}) {
    return this.request<T>({ ...options, method: 'PATCH', path, json });
  }
  delete<T>(path: string, options: RequestOptions = {}) {
    return this.request<T>({ ...options, method: 'DELETE', path });
  }
}

/**
 * The shared HTTP machinery of native connectors: base URL, credential headers, one
 * deadline and cancellation for the whole call, retries of requests that are safe to
 * repeat (backoff, `Retry-After`), one credential refresh on 401, a response size limit,
 * and errors that carry the provider's sanitised words and never a credential.
 */
export class ProviderHttpClient extends ProviderHttpVerbs {
  readonly baseUrl: URL;
  private readonly retry: RetryPolicy;
  private readonly maxBytes: number;
  private refreshAsked = false;

  constructor(private readonly options: ProviderHttpClientOptions) {
    super();
    this.baseUrl = options.baseUrl;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.config.retry };
    this.maxBytes = options.config.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }


  async request<T>(request: ProviderRequest): Promise<ProviderResponse<T>> {
    const { deadline, config } = this.options;
    const idempotent = request.idempotent ?? (request.method === 'GET' || request.method === 'HEAD' || this.options.idempotentTool);
    let url = requestUrl(this.baseUrl, request.path, request.params, request.query);
    let redirects = 0;
    // Attempts that count against the retry policy: redirects and the 401 refresh do not.
    let attempts = 0;
    for (;;) {
      deadline.check();
      attempts++;
      try {
        const { response, failed } = await this.send(url, request);
        const { status } = response;

        if (status >= 200 && status < 300) {
          const body = await this.readAnswer(response, request.responseType ?? 'json', failed);
          const answer: ProviderResponse<T> = { status, headers: response.headers, body: body as T, url: url.toString() };
          if (config.answerRefused?.(body, answer)) {
            await this.credentialRefused();
            attempts--;
            continue;
          }
          const problem = config.answerError?.(body, answer);
          if (problem !== undefined) throw new ProviderError(status, this.clean(problem));
          return answer;
        }

        if (REDIRECTS.has(status) && (request.method === 'GET' || request.method === 'HEAD')) {
          await discard(response);
          const location = response.headers.get('location');
          if (!location || ++redirects > MAX_REDIRECTS) throw new ProviderAnswerError('redirect');
          try {
            url = requestUrl(this.baseUrl, new URL(location, url).toString());
          } catch {
            throw new ProviderAnswerError('redirect');
          }
          attempts--;
          continue;
        }

        if (status === 401) {
          await discard(response);
          await this.credentialRefused();
          attempts--;
          continue;
        }

        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after')) ?? config.rateLimitWait?.(status, response.headers, Date.now());
        // GitHub (and others) answer a secondary rate limit with 403 and Retry-After.
        const transient = TRANSIENT.has(status) || (status === 403 && retryAfterMs !== undefined);
        const wait = transient && idempotent ? this.retryWait(attempts, retryAfterMs) : undefined;
        if (wait === undefined) throw new ProviderError(status, await this.errorText(response), retryAfterMs);
        await discard(response);
        await this.sleep(wait);
      } catch (err) {
        // No answer: repeat only what is safe to repeat.
        if (!(err instanceof ProviderUnreachableError) || !idempotent) throw err;
        const wait = this.retryWait(attempts, undefined);
        if (wait === undefined) throw err;
        await this.sleep(wait);
      }
    }
  }

  /**
   * The provider refused the credential: asks once per call for a new one (an OAuth
   * refresh) and returns when the request may be sent again. A refused credential is
   * answered before anything runs, so even a POST may be repeated.
   */
  private async credentialRefused(): Promise<void> {
    if (this.refreshAsked) throw new CredentialRefusedError(true);
    this.refreshAsked = true;
    if (!(await this.options.deadline.race(this.options.credential.refused()))) throw new CredentialRefusedError(false);
  }

  private retryWait(attempts: number, retryAfterMs: number | undefined): number | undefined {
    const random = this.options.random;
    return retryDelay({ attempts, retryAfterMs, remainingMs: this.options.deadline.at - Date.now(), policy: this.retry, ...(random ? { random } : {}) });
  }

  /**
   * One attempt, bounded by the deadline (and the per-request budget), cancelled with the
   * call. `failed` names why reading the answer's body failed, under the same signal.
   */
  private async send(url: URL, request: ProviderRequest): Promise<{ response: Response; failed: (err: unknown) => Error }> {
    const { deadline, config, credential } = this.options;
    const remaining = deadline.remaining();
    const perRequest = config.requestTimeoutMs ?? Infinity;
    const capped = perRequest < remaining;
    const timeout = AbortSignal.timeout(capped ? perRequest : remaining);
    const signal = deadline.signal ? AbortSignal.any([deadline.signal, timeout]) : timeout;
    const headers = new Headers(config.headers);
    for (const [k, v] of Object.entries(request.headers ?? {})) headers.set(k, v);
    let body: string | Uint8Array | undefined;
    if (request.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(request.json);
    } else if (request.form !== undefined) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams({ ...request.form }).toString();
    } else if (request.body !== undefined) {
      headers.set('content-type', request.body.contentType);
      body = request.body.data;
    }
    // Last, so no tool header can stand in for the credential.
    for (const [k, v] of Object.entries(credential.headers())) headers.set(k, v);
    const failed = (err: unknown) => this.stopped(err, timeout, capped);
    try {
      const response = await fetch(url, { method: request.method, headers, body: body ?? null, redirect: 'manual', signal });
      return { response, failed };
    } catch (err) {
      throw failed(err);
    }
  }

  /** Why a fetch or a body read failed: the caller, the deadline, the attempt's budget, or the network. */
  private stopped(err: unknown, timeout: AbortSignal, capped: boolean): Error {
    const { deadline } = this.options;
    if (err instanceof ResponseTooLargeError) return err;
    if (deadline.signal?.aborted) return new StoppedError('cancelled');
    if (timeout.aborted) return capped ? new ProviderUnreachableError('timeout') : new StoppedError('deadline');
    if (Date.now() >= deadline.at) return new StoppedError('deadline');
    return new ProviderUnreachableError('unreachable');
  }

  private async readAnswer(response: Response, type: 'json' | 'text' | 'bytes', failed: (err: unknown) => Error): Promise<unknown> {
    let bytes: Uint8Array;
    try {
      bytes = await readLimited(response, this.maxBytes);
    } catch (err) {
      throw failed(err);
    }
    if (type === 'bytes') return bytes;
    const text = new TextDecoder().decode(bytes);
    if (type === 'text') return text;
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ProviderAnswerError('malformed');
    }
  }

  /** The provider's message in an error answer, sanitised and bounded; undefined if it gave none. */
  private async errorText(response: Response): Promise<string | undefined> {
    let text: string;
    try {
      text = new TextDecoder().decode(await readLimited(response, MAX_ERROR_BODY_BYTES));
    } catch {
      return undefined;
    }
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // HTML error pages say nothing useful to a model.
      if (/^\s*</.test(text)) return undefined;
    }
    const message = this.options.config.errorMessage?.(body, response.status) ?? defaultErrorMessage(body);
    return message === undefined ? undefined : this.clean(message);
  }

  private clean(text: string): string | undefined {
    return sanitizeUpstreamText(text, this.options.credential.secrets(), MAX_PROVIDER_TEXT);
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    return this.options.deadline
      .race(new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))))
      .finally(() => clearTimeout(timer));
  }
}

/** A response body, refused (and the transfer stopped) once it passes `limit` bytes. */
async function readLimited(response: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await discard(response);
    throw new ResponseTooLargeError(limit);
  }
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new ResponseTooLargeError(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** Lets the connection go back to the pool without reading what we do not need. */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}
