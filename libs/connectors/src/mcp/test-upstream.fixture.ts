import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';

// A real MCP server (the SDK's, stateful Streamable HTTP) for the connector's tests. It
// records the headers of every request it receives and answers with exactly the results
// below, so tests can compare what reached the agent with what the upstream sent.
// Test-only: excluded from the library build.

/** 1x1 transparent PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** Every kind of content block MCP has, with annotations, _meta and structured output. */
export const RICH_RESULT: CallToolResult = {
  content: [
    { type: 'text', text: 'héllo\nworld', annotations: { audience: ['user'], priority: 0.5 }, _meta: { 'example.com/trace': 'a1' } },
    { type: 'image', data: PNG, mimeType: 'image/png' },
    { type: 'audio', data: 'UklGRiQAAABXQVZF', mimeType: 'audio/wav' },
    { type: 'resource_link', uri: 'file:///reports/q3.pdf', name: 'q3.pdf', mimeType: 'application/pdf', description: 'Q3 report' },
    { type: 'resource', resource: { uri: 'mem://notes/1', mimeType: 'text/plain', text: 'embedded text' } },
    { type: 'resource', resource: { uri: 'mem://blobs/1', mimeType: 'application/octet-stream', blob: 'AAECAw==' } },
  ],
  structuredContent: { total: 3, items: [{ id: 1, tags: ['a'] }, { id: 2, nested: { deep: [null, true, 1.5] } }] },
  isError: false,
  _meta: { 'example.com/cost': 7 },
};

/**
 * Sent as raw JSON, past the SDK server's schemas: fields and a content type that no
 * MCP revision this SDK knows has. A gateway must not drop them.
 */
export const RAW_RESULT = {
  content: [
    { type: 'text', text: 'from the future', future_field: { x: 1 } },
    { type: 'hologram', data: 'AAAA', frames: 3 },
  ],
  structuredContent: { ok: true },
  extension_field: ['kept'],
  _meta: { 'example.com/raw': true },
};

const TOOLS: Tool[] = [
  { name: 'echo', description: 'Echo the text back', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }, annotations: { readOnlyHint: true } },
  {
    name: 'add',
    description: 'Add two numbers',
    inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
    outputSchema: { type: 'object', properties: { sum: { type: 'number' } }, required: ['sum'] },
  },
  { name: 'image', description: 'A tiny PNG', inputSchema: { type: 'object' } },
  { name: 'rich', description: 'Every content kind', inputSchema: { type: 'object' }, title: 'Rich', _meta: { 'example.com/tier': 'gold' } },
  { name: 'raw', description: 'Fields from a later revision', inputSchema: { type: 'object' } },
  { name: 'fail', description: 'Always an error result', inputSchema: { type: 'object' } },
  { name: 'slow', description: 'Wait ms, unless cancelled', inputSchema: { type: 'object', properties: { ms: { type: 'number' } } } },
  { name: 'progress', description: 'Report progress steps, then answer', inputSchema: { type: 'object', properties: { steps: { type: 'number' }, message: { type: 'string' } } } },
  { name: 'leak', description: 'Fails with a message quoting the credential headers', inputSchema: { type: 'object' } },
  { name: 'grow', description: 'Adds a tool and announces the change', inputSchema: { type: 'object' } },
];

export interface RecordedRequest {
  readonly httpMethod: string;
  readonly rpcMethod: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

export interface RecordedCall {
  readonly tool: string;
  readonly args: Record<string, unknown>;
  readonly headers: IncomingHttpHeaders;
}

export interface TestUpstream {
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly calls: RecordedCall[];
  /** Names of tool calls the client cancelled (notifications/cancelled) while they ran. */
  readonly cancelled: string[];
  initializeCount(): number;
  /** tools/list requests received. */
  listCount(): number;
  /** Sessions the upstream still holds (a DELETE or close ends one). */
  openSessions(): number;
  /** Forgets every session, as a restarted upstream would: their next request gets 404. */
  forgetSessions(): Promise<void>;
  close(): Promise<void>;
}

export interface TestUpstreamOptions {
  /** tools/list page size (default: everything on one page). */
  readonly pageSize?: number;
  /** Answer 401 when this returns true for a request's headers. */
  readonly refuse?: (headers: IncomingHttpHeaders) => boolean;
}

export async function startTestUpstream(options: TestUpstreamOptions = {}): Promise<TestUpstream> {
  const requests: RecordedRequest[] = [];
  const calls: RecordedCall[] = [];
  const cancelled: string[] = [];
  const tools = [...TOOLS];
  const transports = new Map<string, StreamableHTTPServerTransport>();
  let initializes = 0;
  let lists = 0;

  const build = () => {
    const server = new Server({ name: 'connector-test-upstream', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
    server.setRequestHandler(ListToolsRequestSchema, (req) => {
      lists++;
      const size = options.pageSize ?? tools.length;
      const start = Number(req.params?.cursor ?? 0);
      const end = start + size;
      return { tools: tools.slice(start, end), ...(end < tools.length ? { nextCursor: String(end) } : {}) };
    });
    server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
      const args = req.params.arguments ?? {};
      const headers = { ...(extra.requestInfo?.headers ?? {}) } as IncomingHttpHeaders;
      calls.push({ tool: req.params.name, args, headers });
      switch (req.params.name) {
        case 'echo':
          return { content: [{ type: 'text', text: String(args.text) }] };
        case 'add': {
          const sum = Number(args.a) + Number(args.b);
          return { content: [{ type: 'text', text: String(sum) }], structuredContent: { sum } };
        }
        case 'image':
          return { content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] };
        case 'rich':
          return RICH_RESULT;
        case 'fail':
          return { content: [{ type: 'text', text: 'upstream says no' }], isError: true };
        case 'slow':
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Number(args.ms ?? 0));
            extra.signal.addEventListener('abort', () => {
              clearTimeout(timer);
              cancelled.push('slow');
              resolve();
            });
          });
          return { content: [{ type: 'text', text: `waited ${String(args.ms)}` }] };
        case 'progress': {
          const steps = Number(args.steps ?? 3);
          const progressToken = req.params._meta?.progressToken;
          for (let i = 1; progressToken !== undefined && i <= steps; i++) {
            await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: i, total: steps, message: String(args.message ?? `step ${i}`) } });
          }
          return { content: [{ type: 'text', text: `done in ${steps}` }] };
        }
        case 'leak':
          throw new McpError(ErrorCode.InternalError, `denied for ${String(headers.authorization)} / ${String(headers['x-api-key'])}`);
        case 'grow':
          if (!tools.some((t) => t.name === 'grown')) tools.push({ name: 'grown', description: 'Added at run time', inputSchema: { type: 'object' } });
          // In-band, on this call's own stream: it reaches the client before the result.
          await extra.sendNotification({ method: 'notifications/tools/list_changed' });
          return { content: [{ type: 'text', text: 'grown' }] };
        default:
          throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${req.params.name}`);
      }
    });
    return server;
  };

  const http: HttpServer = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = raw ? (JSON.parse(raw) as { method?: string; id?: number; params?: { name?: string } }) : undefined;
      requests.push({ httpMethod: req.method ?? '', rpcMethod: body?.method, headers: { ...req.headers } });
      if (options.refuse?.(req.headers)) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unauthorized' }));
        return;
      }
      const sessionId = req.headers['mcp-session-id'] as string | undefined;
      let transport = sessionId ? transports.get(sessionId) : undefined;
      if (!transport) {
        if (sessionId || body?.method !== 'initialize') {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
          return;
        }
        initializes++;
        const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => void transports.set(id, created),
          onsessionclosed: (id) => void transports.delete(id),
        });
        await build().connect(created);
        transport = created;
      }
      if (body?.method === 'tools/call' && body.params?.name === 'raw') {
        calls.push({ tool: 'raw', args: {}, headers: { ...req.headers } });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: RAW_RESULT }));
        return;
      }
      await transport.handleRequest(req, res, body);
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const port = (http.address() as AddressInfo).port;

  const forgetSessions = async () => {
    const all = [...transports.values()];
    transports.clear();
    await Promise.allSettled(all.map((t) => t.close()));
  };

  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    calls,
    cancelled,
    initializeCount: () => initializes,
    listCount: () => lists,
    openSessions: () => transports.size,
    forgetSessions,
    async close() {
      await forgetSessions();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
