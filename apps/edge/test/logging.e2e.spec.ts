import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema, type LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import {
  api,
  NATS_PERMISSIONS_FILE,
  natsUsers,
  startNatsServer,
  startStack,
  startUpstreamMcpServer,
  type EdgeReplica,
  type NatsServerHandle,
  type Stack,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textOf } from './mcp-client.js';

// The upstream's log messages (notifications/message) of a call reach a 2026-07-28 agent
// on that call's own stream, before the result, when the request's `_meta` asks for a log
// level; none at all otherwise. The upstream session is pooled per account, so concurrent
// calls share it: each call's agent gets that call's messages only. The account's
// credential never reaches the agent. The bus runs with the production permission file, so
// the edge's subscription to the call's log subject is allowed there too.

const MODERN = '2026-07-28';
const LOG_LEVEL = 'io.modelcontextprotocol/logLevel';
const SECRET = 'alice-log-secret-9b2e4d71';

interface Frame {
  method?: string;
  params?: { level?: string; logger?: string; data?: unknown };
  id?: unknown;
  result?: unknown;
}

/** A JSON-RPC message the client POSTed, and the raw text of the answer. */
interface Post {
  readonly message: { id?: number | string; method?: string; params?: { name?: string; arguments?: Record<string, unknown> } };
  answer?: Promise<string>;
}

describe('upstream log messages for 2026-07-28 clients', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let mcpUrl: string;
  let token: string;
  let client: Client;
  const posts: Post[] = [];

  beforeAll(async () => {
    const creds = natsUsers();
    nats = await startNatsServer({ configFile: NATS_PERMISSIONS_FILE, env: creds.serverEnv });
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite', natsUsers: creds.users });
    const admin = api(stack.baseUrl, stack.adminKey);
    const tenant = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name: 'logging' })).body as { api_key: string }).api_key);
    expect((await tenant.post('/api/v1/connections', { name: 'upstream', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } })).status).toBe(201);
    expect(
      (await tenant.post('/api/v1/connected_accounts', { connection_name: 'upstream', identifier: 'alice', authorization_details: { static_auth: { token: SECRET } } }))
        .status,
    ).toBe(201);
    const config = await tenant.post<{ config: { id: string } }>('/api/v1/mcp/configs', {
      name: 'logging',
      connection_tool_mappings: [{ connection_name: 'upstream', tools: ['log', 'progress'] }],
    });
    expect(config.status).toBe(201);
    const minted = await tenant.post<{ token: string; mcp_server_url: string }>(`/api/v1/mcp/configs/${config.body.config.id}/tokens`, { identifier: 'alice' });
    mcpUrl = minted.body.mcp_server_url;
    token = minted.body.token;

    const tap: typeof fetch = async (input, init) => {
      if (typeof init?.body !== 'string') return fetch(input, init);
      const post: Post = { message: JSON.parse(init.body) as Post['message'] };
      posts.push(post);
      const res = await fetch(input, init);
      post.answer = res.clone().text().catch(() => '');
      return res;
    };
    client = new Client({ name: 'vmcp-logging-2026', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } }, fetch: tap }));
    expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);
  });

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  /** Calls the `log` tool (with a log level or none) and returns the result and every frame of its answer. */
  const callLog = async (tag: string, messages: Array<{ level: string; data: unknown; logger?: string }>, level?: string, delay_ms?: number) => {
    const result = await client.callTool({
      name: 'log',
      arguments: { messages, ...(delay_ms !== undefined ? { delay_ms } : {}), tag },
      ...(level ? { _meta: { [LOG_LEVEL]: level } } : {}),
    });
    const post = posts.find((p) => p.message.method === 'tools/call' && p.message.params?.arguments?.['tag'] === tag)!;
    const raw = await post.answer!;
    const frames = raw
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as Frame);
    return { result, raw, frames: frames.length > 0 ? frames : [JSON.parse(raw) as Frame] };
  };
  const logsOf = (frames: Frame[]) => frames.filter((f) => f.method === 'notifications/message').map((f) => f.params);

  it("relays the call's log messages at or above the asked level, in order, before the result", async () => {
    const { result, frames } = await callLog(
      'ordered',
      [
        { level: 'debug', data: 'too chatty' },
        { level: 'info', data: 'step one', logger: 'worker' },
        { level: 'warning', data: { rows: 3, note: 'slow' } },
        { level: 'error', data: 'step three' },
      ],
      'info',
    );
    expect(textOf(result)).toBe('logged 4');
    expect(frames.map((f) => f.method ?? 'result')).toEqual(['notifications/message', 'notifications/message', 'notifications/message', 'result']);
    expect(logsOf(frames)).toEqual([
      { level: 'info', logger: 'worker', data: 'step one' },
      { level: 'warning', data: { rows: 3, note: 'slow' } },
      { level: 'error', data: 'step three' },
    ]);
  });

  it('relays no log message when the request asked for no log level', async () => {
    const { result, frames } = await callLog('silent', [
      { level: 'error', data: 'not asked for' },
      { level: 'emergency', data: 'still not' },
    ]);
    expect(textOf(result)).toBe('logged 2');
    expect(logsOf(frames)).toEqual([]);
    // The upstream did send them: they stop at the gateway.
    expect(upstream.calls.some((c) => c.tool === 'log' && JSON.stringify(c.arguments).includes('not asked for'))).toBe(true);
  });

  it("keeps the account's credential out of the messages", async () => {
    const { frames, raw } = await callLog('secret', [{ level: 'warning', data: { header: `Authorization: Bearer ${SECRET}`, [SECRET]: 'as a key' } }], 'debug');
    expect(logsOf(frames)).toEqual([{ level: 'warning', data: { header: 'Authorization: [redacted]', '[redacted]': 'as a key' } }]);
    expect(raw).not.toContain(SECRET);
  });

  it('gives each of two concurrent calls on the same upstream session only its own messages', async () => {
    const messages = (who: string) => [1, 2, 3].map((i) => ({ level: 'info', data: `${who} ${i}` }));
    const sessions = upstream.initializeCount();
    const [a, b] = await Promise.all([callLog('concurrent-a', messages('a'), 'info', 30), callLog('concurrent-b', messages('b'), 'info', 30)]);
    // One pooled upstream session carried both.
    expect(upstream.initializeCount()).toBe(sessions);
    expect(logsOf(a.frames).map((p) => p?.data)).toEqual(['a 1', 'a 2', 'a 3']);
    expect(logsOf(b.frames).map((p) => p?.data)).toEqual(['b 1', 'b 2', 'b 3']);
  });

  it('needed nothing the permission file refuses', () => {
    expect(nats.violations()).toEqual([]);
  });
});

// A 2025-era session (the v1 SDK client, 2025-11-25) sets its log level with
// logging/setLevel: the level is kept in the session's record in NATS KV, so every edge
// replica uses it for the session's next call at once (the replica that set it tells the
// others to drop their copy of the record). Its calls' log messages then arrive like a
// 2026-07-28 client's, before the result; a session that set none gets none.

describe('upstream log messages for 2025-era sessions', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let replica: EdgeReplica;
  let mcpUrl: string;
  let token: string;
  /** Base URL the agent's requests go to: the stack's own edge (A) or the replica (B). */
  let target: string;
  const clients: LegacyClient[] = [];
  /** The content type of each tools/call answer, by its `tag` argument. */
  const answerTypes = new Map<string, string | null>();

  const viaTarget: typeof fetch = async (input, init) => {
    const res = await fetch(String(input).replace(stack.publicUrl, target), init);
    if (typeof init?.body === 'string') {
      const message = JSON.parse(init.body) as { method?: string; params?: { arguments?: { tag?: string } } };
      const tag = message.params?.arguments?.tag;
      if (message.method === 'tools/call' && tag !== undefined) answerTypes.set(tag, res.headers.get('content-type'));
    }
    return res;
  };
  /** The official v1 SDK client; every `notifications/message` and result it gets lands in `events`, in order. */
  const agent = async () => {
    const events: Array<{ level: string; data: unknown; logger?: string } | 'result'> = [];
    const client = new LegacyClient({ name: 'vmcp-logging-2025', version: '1.0.0' });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      events.push({ level: n.params.level, data: n.params.data, ...(n.params.logger !== undefined ? { logger: n.params.logger } : {}) });
    });
    const transport = new LegacyTransport(new URL(mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } }, fetch: viaTarget });
    await client.connect(transport);
    clients.push(client);
    const callLog = async (tag: string, messages: Array<{ level: string; data: unknown; logger?: string }>) => {
      const from = events.length;
      const result = await client.callTool({ name: 'log', arguments: { messages, tag } });
      events.push('result');
      return { result, events: events.slice(from) };
    };
    return { client, transport, callLog };
  };
  const mixed = (who: string) => [
    { level: 'debug', data: `${who} debug` },
    { level: 'info', data: `${who} info`, logger: 'worker' },
    { level: 'warning', data: `${who} warning` },
    { level: 'error', data: `${who} error` },
  ];

  beforeAll(async () => {
    const creds = natsUsers();
    nats = await startNatsServer({ configFile: NATS_PERMISSIONS_FILE, env: creds.serverEnv });
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite', natsUsers: creds.users });
    replica = await stack.startEdgeReplica();
    target = stack.baseUrl;
    const admin = api(stack.baseUrl, stack.adminKey);
    const tenant = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name: 'logging-2025' })).body as { api_key: string }).api_key);
    expect((await tenant.post('/api/v1/connections', { name: 'upstream', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } })).status).toBe(201);
    expect(
      (await tenant.post('/api/v1/connected_accounts', { connection_name: 'upstream', identifier: 'alice', authorization_details: { static_auth: { token: SECRET } } }))
        .status,
    ).toBe(201);
    const config = await tenant.post<{ config: { id: string } }>('/api/v1/mcp/configs', {
      name: 'logging',
      connection_tool_mappings: [{ connection_name: 'upstream', tools: ['log'] }],
    });
    expect(config.status).toBe(201);
    const minted = await tenant.post<{ token: string; mcp_server_url: string }>(`/api/v1/mcp/configs/${config.body.config.id}/tokens`, { identifier: 'alice' });
    mcpUrl = minted.body.mcp_server_url;
    token = minted.body.token;
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('offers logging, and relays a call\'s messages at or above the level the session set, before the result', async () => {
    target = stack.baseUrl;
    const { client, callLog } = await agent();
    expect(client.getServerCapabilities()?.logging).toEqual({});
    expect(await client.setLoggingLevel('info')).toEqual({});
    const { result, events } = await callLog('legacy-ordered', mixed('a'));
    expect(textOf(result)).toBe('logged 4');
    expect(events).toEqual([
      { level: 'info', logger: 'worker', data: 'a info' },
      { level: 'warning', data: 'a warning' },
      { level: 'error', data: 'a error' },
      'result',
    ]);
    expect(answerTypes.get('legacy-ordered')).toMatch(/^text\/event-stream/);
  });

  it('relays no log message to a session that set no level', async () => {
    target = stack.baseUrl;
    const { callLog } = await agent();
    const { result, events } = await callLog('legacy-silent', [
      { level: 'error', data: 'not asked for' },
      { level: 'emergency', data: 'still not' },
    ]);
    expect(textOf(result)).toBe('logged 2');
    expect(events).toEqual(['result']);
    // A plain JSON answer, as before; the upstream did send the messages.
    expect(answerTypes.get('legacy-silent')).toMatch(/^application\/json/);
    expect(upstream.calls.some((c) => c.tool === 'log' && JSON.stringify(c.arguments).includes('not asked for'))).toBe(true);
  });

  it('uses a level set on one replica for the next call on another at once', async () => {
    target = stack.baseUrl;
    const { transport, callLog, client } = await agent();
    const sessionId = transport.sessionId;
    // Replica B serves a call first, so it holds a copy of the session (no level yet).
    target = replica.url;
    expect((await callLog('replica-before', mixed('b0'))).events).toEqual(['result']);
    // Set on A, called on B right after: B dropped its copy.
    target = stack.baseUrl;
    await client.setLoggingLevel('warning');
    target = replica.url;
    expect((await callLog('replica-warning', mixed('b1'))).events).toEqual([{ level: 'warning', data: 'b1 warning' }, { level: 'error', data: 'b1 error' }, 'result']);
    // And changed again: B, which now holds the 'warning' copy, uses 'debug' at once.
    target = stack.baseUrl;
    await client.setLoggingLevel('debug');
    target = replica.url;
    expect((await callLog('replica-debug', mixed('b2'))).events.filter((e) => e !== 'result').map((e) => e.data)).toEqual(['b2 debug', 'b2 info', 'b2 warning', 'b2 error']);
    // The client kept its session throughout.
    expect(transport.sessionId).toBe(sessionId);
  });

  it('refuses a level that is not one of the RFC 5424 levels', async () => {
    target = stack.baseUrl;
    const { client, callLog } = await agent();
    await expect(client.setLoggingLevel('verbose' as LoggingLevel)).rejects.toMatchObject({ code: -32602 });
    // Nothing was stored: the session still gets no log messages.
    expect((await callLog('legacy-refused', mixed('c'))).events).toEqual(['result']);
  });

  it('needed nothing the permission file refuses', () => {
    expect(nats.violations()).toEqual([]);
  });
});
