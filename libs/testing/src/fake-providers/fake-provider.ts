import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake provider received it, for tests to assert the exact request. */
export interface RecordedRequest {
  readonly method: string;
  /** The path without the query, as sent (percent-encoding kept). */
  readonly path: string;
  /** Decoded query parameters; a repeated one is an array. */
  readonly query: Readonly<Record<string, string | string[]>>;
  readonly headers: IncomingHttpHeaders;
  /** The body parsed as JSON when it is JSON, else the text; undefined when empty. */
  readonly body: unknown;
  readonly rawBody: string;
}

/** What the fake answers. `body` that is not a string is sent as JSON. */
export interface FakeResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /** Wait this long before answering (the client may give up first). */
  readonly delayMs?: number;
  /** Send the body without Content-Length, in pieces (a streamed answer). */
  readonly chunked?: boolean;
}

export interface FakeRequest extends RecordedRequest {
  /** Values of `:name` segments of the matched route, decoded. */
  readonly params: Readonly<Record<string, string>>;
}

export interface FakeRoute {
  readonly method: string;
  /** `/repos/:owner/:repo/issues`; each `:name` matches one segment. */
  readonly path: string;
  readonly handle: (request: FakeRequest) => FakeResponse | Promise<FakeResponse>;
}

export interface FakeProviderOptions {
  readonly routes: readonly FakeRoute[];
  /** Path prefix every route lives under (`/api/v3` for an enterprise edition). */
  readonly prefix?: string;
  /** Checked before any route: a response refuses the request (missing or bad credentials). */
  readonly gate?: (request: RecordedRequest) => FakeResponse | undefined;
  /** Headers on every answer. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The answer when no route matches. */
  readonly notFound?: (request: RecordedRequest) => FakeResponse;
}

export interface FakeProvider {
  /** Origin plus prefix, e.g. `http://127.0.0.1:1234/api/v3`: what a connection's base_url is set to. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /**
   * The next `times` requests matching `match` get `response` instead of the route's
   * answer (a 429, a 503, a slow or huge answer).
   */
  override(match: { readonly method?: string; readonly path?: string | RegExp }, response: FakeResponse | ((request: RecordedRequest) => FakeResponse), times?: number): void;
  /** Forgets recorded requests and pending overrides. */
  reset(): void;
  close(): Promise<void>;
}

interface Override {
  readonly method?: string;
  readonly path?: string | RegExp;
  readonly response: FakeResponse | ((request: RecordedRequest) => FakeResponse);
  left: number;
}

/**
 * A local HTTP server standing in for a provider's REST API in tests: routes reproduce the
 * documented request and response shapes, every request is recorded.
 */
export async function startFakeProvider(options: FakeProviderOptions): Promise<FakeProvider> {
  const prefix = (options.prefix ?? '').replace(/\/+$/, '');
  const requests: RecordedRequest[] = [];
  let overrides: Override[] = [];
  const compiled = options.routes.map((r) => ({ ...r, pattern: routePattern(r.path) }));

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://fake');
        const rawBody = Buffer.concat(chunks).toString('utf8');
        let body: unknown = rawBody === '' ? undefined : rawBody;
        if (rawBody && /json/i.test(req.headers['content-type'] ?? '')) {
          try {
            body = JSON.parse(rawBody);
          } catch {
            // kept as text
          }
        }
        const query: Record<string, string | string[]> = {};
        for (const [k, v] of url.searchParams) {
          const prev = query[k];
          query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
        }
        const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query, headers: req.headers, body, rawBody };
        requests.push(recorded);
        const answer = await respond(recorded);
        await send(res, answer, options.headers ?? {});
      })().catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    });
  });

  async function respond(r: RecordedRequest): Promise<FakeResponse> {
    const o = overrides.find((x) => x.left > 0 && (!x.method || x.method === r.method) && (!x.path || (typeof x.path === 'string' ? x.path === r.path : x.path.test(r.path))));
    if (o) {
      o.left--;
      return typeof o.response === 'function' ? o.response(r) : o.response;
    }
    const gated = options.gate?.(r);
    if (gated) return gated;
    if (r.path.startsWith(prefix)) {
      const local = r.path.slice(prefix.length) || '/';
      for (const route of compiled) {
        if (route.method !== r.method) continue;
        const m = route.pattern.regex.exec(local);
        if (!m) continue;
        const params: Record<string, string> = {};
        route.pattern.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
        return route.handle({ ...r, params });
      }
    }
    return options.notFound?.(r) ?? { status: 404, body: { message: 'Not Found' } };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    requests,
    override(match, response, times = 1) {
      overrides.push({ ...match, response, left: times });
    },
    reset() {
      requests.length = 0;
      overrides = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function routePattern(path: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path
    .split('/')
    .map((seg) => {
      if (seg.startsWith(':')) {
        names.push(seg.slice(1));
        return '([^/]+)';
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${source}$`), names };
}

async function send(res: ServerResponse, answer: FakeResponse, common: Readonly<Record<string, string>>): Promise<void> {
  if (answer.delayMs) {
    const gone = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), answer.delayMs);
      res.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (gone) return;
  }
  const isText = typeof answer.body === 'string';
  const payload = answer.body === undefined ? '' : isText ? (answer.body as string) : JSON.stringify(answer.body);
  const headers: Record<string, string> = { ...common };
  if (answer.body !== undefined) headers['content-type'] = isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
  Object.assign(headers, answer.headers);
  if (answer.chunked) {
    res.writeHead(answer.status, headers);
    const step = 16 * 1024;
    for (let i = 0; i < payload.length && !res.destroyed; i += step) {
      if (!res.write(payload.slice(i, i + step))) {
        await new Promise<void>((r) => {
          res.once('drain', () => r());
          res.once('close', () => r());
        });
      }
    }
    res.end();
    return;
  }
  headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(answer.status, headers);
  res.end(payload);
}
