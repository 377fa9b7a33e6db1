import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CreateMessageResultSchema, ElicitResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

export interface UpstreamRequest {
  readonly method: string;
  readonly rpcMethod?: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly sessionId?: string;
}

export interface UpstreamCall {
  readonly tool: string;
  readonly arguments: Record<string, unknown>;
  readonly headers: Record<string, string | string[] | undefined>;
}

export interface UpstreamMcpServer {
  /** Streamable HTTP endpoint, e.g. http://127.0.0.1:1234/mcp */
  readonly url: string;
  /** Every HTTP request received (headers included), unless `record: false`. */
  readonly requests: UpstreamRequest[];
  /** Every tool call received, with the headers it carried. */
  readonly calls: UpstreamCall[];
  /** Tool calls the client cancelled (notifications/cancelled) while they ran, by tool name. */
  readonly cancelled: string[];
  /** What each `ask` call ended with: how many of its questions were answered, and the error that stopped it. */
  readonly asks: Array<{ prompt: string; answered: number; error?: { code: unknown; message?: string } }>;
  /** How many `initialize` requests arrived (one per upstream session). */
  initializeCount(): number;
  /** Ends every `slow` call waiting now, as if its time had passed (a test's gate instead of a race with the clock); how many. */
  releaseSlow(): number;
  close(): Promise<void>;
}

export interface UpstreamOptions {
  /** Answer 401 when this returns false for the request's headers. */
  readonly requireAuth?: (headers: IncomingMessage['headers']) => boolean;
  /**
   * Checks the Authorization header as a resource server would (e.g. a bearer token against an OAuth
   * provider); a request it rejects gets 401 with `WWW-Authenticate: Bearer error="invalid_token"`.
   */
  readonly authorize?: (authorization: string | undefined) => Promise<boolean> | boolean;
  /** Keep no request log (for benchmarks). */
  readonly record?: boolean;
}

// A 1x1 transparent PNG.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

const CREDENTIAL_HEADERS = /^(authorization|x-api-key|x-.*)$/i;

/**
 * A real MCP server built with the SDK (stateful Streamable HTTP) for tests: echo, add
 * (structured output), whoami (shows the credential headers it received), image, rich (keys MCP does not define), fail
 * (isError), slow (records its cancellation), progress, log, ask (asks the client: sampling,
 * elicitation). It records what reaches it so tests can assert on it.
 */
export async function startUpstreamMcpServer(options: UpstreamOptions = {}): Promise<UpstreamMcpServer> {
  const record = options.record !== false;
  const requests: UpstreamRequest[] = [];
  const calls: UpstreamCall[] = [];
  const cancelled: string[] = [];
  const waitingSlow = new Set<() => void>();
  const asks: UpstreamMcpServer['asks'] = [];
  let initializes = 0;
  const transports = new Map<string, StreamableHTTPServerTransport>();

  type Extra = { requestInfo?: { headers: Record<string, string | string[] | undefined> } };
  const headersOf = (extra: Extra) => ({ ...(extra.requestInfo?.headers ?? {}) });
  const build = () => {
    const server = new McpServer({ name: 'upstream-fixture', version: '1.0.0' }, { capabilities: { logging: {} } });
    const seen = (tool: string, args: Record<string, unknown>, extra: Extra) => {
      if (record) calls.push({ tool, arguments: args, headers: headersOf(extra) });
    };
    server.registerTool(
      'echo',
      { description: 'Echo the text back', inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } },
      async ({ text }, extra) => {
        seen('echo', { text }, extra);
        return { content: [{ type: 'text', text }] };
      },
    );
    server.registerTool(
      'add',
      { description: 'Add two numbers', inputSchema: { a: z.number(), b: z.number() }, outputSchema: { sum: z.number() } },
      async ({ a, b }, extra) => {
        seen('add', { a, b }, extra);
        return { content: [{ type: 'text', text: String(a + b) }], structuredContent: { sum: a + b } };
      },
    );
    server.registerTool('whoami', { description: 'Show the credential headers this server received' }, async (extra) => {
      seen('whoami', {}, extra);
      const h = headersOf(extra);
      const shown = Object.entries(h)
        .filter(([k]) => CREDENTIAL_HEADERS.test(k) && !/^mcp-/i.test(k))
        .map(([k, v]) => `${k}: ${String(v)}`)
        .join('\n');
      return { content: [{ type: 'text', text: shown }] };
    });
    server.registerTool('image', { description: 'Return a tiny PNG' }, async (extra) => {
      seen('image', {}, extra);
      return { content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] };
    });
    server.registerTool('rich', { description: 'Answer with keys MCP does not define: in a content block, its annotations, an embedded resource and the result' }, async (extra) => {
      seen('rich', {}, extra);
      return {
        content: [
          { type: 'text', text: 'rich', vendor_hint: 1, annotations: { audience: ['user'], vendor_score: 0.5 } },
          { type: 'resource', resource: { uri: 'file:///a.txt', text: 'a', vendor_etag: 'x1' } },
        ],
        _meta: { 'vendor.example/trace': 'abc' },
        vendor_summary: 'kept or dropped by the gateway',
      } as unknown as CallToolResult;
    });
    server.registerTool('fail', { description: 'Always fails' }, async (extra) => {
      seen('fail', {}, extra);
      return { content: [{ type: 'text', text: 'upstream says no' }], isError: true };
    });
    server.registerTool('slow', { description: 'Wait ms then answer', inputSchema: { ms: z.number().int().min(0).max(60_000) } }, async ({ ms }, extra) => {
      seen('slow', { ms }, extra);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waitingSlow.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        waitingSlow.add(done);
        // A cancelled call stops waiting (its answer is not sent) and is recorded.
        extra.signal.addEventListener('abort', () => {
          cancelled.push('slow');
          done();
        });
      });
      return { content: [{ type: 'text', text: `waited ${ms}` }] };
    });
    server.registerTool(
      'progress',
      {
        description: 'Report `steps` progress notifications (when the caller sent a progressToken), then answer',
        inputSchema: { steps: z.number().int().min(0).max(100), delay_ms: z.number().int().min(0).max(5000).optional() },
      },
      async ({ steps, delay_ms }, extra) => {
        seen('progress', { steps, ...(delay_ms !== undefined ? { delay_ms } : {}) }, extra);
        const progressToken = extra._meta?.progressToken;
        for (let i = 1; progressToken !== undefined && i <= steps; i++) {
          await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: i, total: steps, message: `step ${i} of ${steps}` } });
          if (delay_ms) await new Promise((r) => setTimeout(r, delay_ms));
        }
        return { content: [{ type: 'text', text: `done in ${steps} steps${progressToken === undefined ? ' (no progress asked)' : ''}` }] };
      },
    );
    server.registerTool(
      'log',
      {
        description: 'Send each message as notifications/message on this request\'s own stream (asked for or not), then answer',
        inputSchema: {
          messages: z.array(
            z.object({
              level: z.enum(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency']),
              data: z.unknown(),
              logger: z.string().optional(),
            }),
          ),
          delay_ms: z.number().int().min(0).max(5000).optional(),
          /** Names the call in the test's own records; not used here. */
          tag: z.string().max(100).optional(),
        },
      },
      async ({ messages, delay_ms }, extra) => {
        seen('log', { messages, ...(delay_ms !== undefined ? { delay_ms } : {}) }, extra);
        for (const { level, data, logger } of messages) {
          await extra.sendNotification({ method: 'notifications/message', params: { level, data, ...(logger !== undefined ? { logger } : {}) } });
          if (delay_ms) await new Promise((r) => setTimeout(r, delay_ms));
        }
        return { content: [{ type: 'text', text: `logged ${messages.length}` }] };
      },
    );
    server.registerTool(
      'ask',
      {
        description:
          'Ask the client during the call (sampling/createMessage, or elicitation/create in form or url mode), `times` times in a row, ' +
          'and answer with the first answer, how many were answered, the first error, and the capabilities this session was initialized with. ' +
          '`leak` puts the Authorization header the call carried into the question (as is, or URL-encoded)',
        inputSchema: {
          kind: z.enum(['sampling', 'elicitation', 'elicitation_url']),
          prompt: z.string().max(1000),
          leak: z.enum(['plain', 'url']).optional(),
          times: z.number().int().min(1).max(30).optional(),
          /** Names the call in the test's own records; not used here. */
          tag: z.string().max(100).optional(),
        },
      },
      async ({ kind, prompt, leak, times }, extra) => {
        seen('ask', { kind, prompt }, extra);
        const authorization = String(headersOf(extra)['authorization'] ?? '');
        const text = leak === 'plain' ? `${prompt} ${authorization}` : leak === 'url' ? `${prompt} ${encodeURIComponent(authorization)}` : prompt;
        const capabilities = server.server.getClientCapabilities() ?? {};
        const outcome: { answer?: unknown; answered: number; error?: { code: unknown; message?: string }; capabilities: unknown } = { answered: 0, capabilities };
        for (let i = 0; i < (times ?? 1) && !outcome.error; i++) {
          try {
            const answer =
              kind === 'sampling'
                ? await extra.sendRequest(
                    { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text } }], maxTokens: 50 } },
                    CreateMessageResultSchema,
                  )
                : await extra.sendRequest(
                    {
                      method: 'elicitation/create',
                      params:
                        kind === 'elicitation'
                          ? { mode: 'form', message: text, requestedSchema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] } }
                          : { mode: 'url', message: text, url: 'https://example.com/consent', elicitationId: randomUUID() },
                    },
                    ElicitResultSchema,
                  );
            outcome.answer ??= answer;
            outcome.answered++;
          } catch (err) {
            const e = err as { code?: unknown; message?: string };
            outcome.error = { code: e.code, ...(e.message !== undefined ? { message: e.message } : {}) };
          }
        }
        asks.push({ prompt, answered: outcome.answered, ...(outcome.error ? { error: outcome.error } : {}) });
        return { content: [{ type: 'text', text: JSON.stringify(outcome) }], ...(outcome.error ? { isError: true } : {}) };
      },
    );
    return server;
  };

  const http: Server = createServer((req, res) => {
    void (async () => {
      if (options.requireAuth && !options.requireAuth(req.headers)) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unauthorized' }));
        return;
      }
      if (options.authorize && !(await options.authorize(req.headers.authorization))) {
        res
          .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' })
          .end(JSON.stringify({ error: 'invalid_token' }));
        return;
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks).toString('utf8');
      const body: unknown = raw ? JSON.parse(raw) : undefined;
      const rpcMethod = (body as { method?: string } | undefined)?.method;
      const sessionId = req.headers['mcp-session-id'] as string | undefined;
      if (record) requests.push({ method: req.method ?? '', rpcMethod, headers: { ...req.headers }, sessionId });
      let transport = sessionId ? transports.get(sessionId) : undefined;
      if (!transport) {
        if (sessionId || rpcMethod !== 'initialize') {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
          return;
        }
        initializes++;
        const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => void transports.set(id, t),
        });
        t.onclose = () => {
          if (t.sessionId) transports.delete(t.sessionId);
        };
        await build().connect(t);
        transport = t;
      }
      await transport.handleRequest(req, res, body);
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const port = (http.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    calls,
    cancelled,
    asks,
    initializeCount: () => initializes,
    releaseSlow: () => {
      const waiting = [...waitingSlow];
      for (const done of waiting) done();
      return waiting.length;
    },
    async close() {
      await Promise.allSettled([...transports.values()].map((t) => t.close()));
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
