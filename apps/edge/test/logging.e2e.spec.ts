import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import {
  api,
  NATS_PERMISSIONS_FILE,
  natsUsers,
  startNatsServer,
  startStack,
  startUpstreamMcpServer,
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
