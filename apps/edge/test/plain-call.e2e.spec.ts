import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { api, startNatsServer, startStack, startUpstreamMcpServer, waitFor, type ApiClient, type NatsServerHandle, type Stack, type UpstreamMcpServer } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAgent, textOf } from './mcp-client.js';

// The edge answers the plainest 2025-era tools/call (a name and arguments, nothing in
// `_meta`) itself, without a per-request SDK server. Its answers must be the SDK's, byte
// for byte: each case is sent twice, plain and with an empty `_meta` (which the SDK
// serves), and the two answers compared, status, headers and body. That the plain leg is
// the one taken is shown in apps/edge/src/mcp/mcp.controller.spec.ts.

interface Wire {
  status: number;
  /** Every response header but `date`. */
  headers: Record<string, string>;
  text: string;
}

interface Entry {
  execution_id: string;
  tool_name: string;
  status: string;
  error_code: string | null;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  arguments_sha256?: string;
  result_sha256?: string;
}

describe('plain tools/call answered by the edge', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let tenant: ApiClient;
  let mcpUrl: string;
  let token: string;
  let bobToken: string;
  let agent: Client;
  let sessionId: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
    const admin = api(stack.baseUrl, stack.adminKey);
    const apiKey = ((await admin.post('/api/v1/tenants', { name: 'plain' })).body as { api_key: string }).api_key;
    tenant = api(stack.baseUrl, apiKey);
    expect((await tenant.post('/api/v1/connections', { name: 'upstream', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } })).status).toBe(201);
    for (const identifier of ['alice', 'bob']) {
      const account = await tenant.post('/api/v1/connected_accounts', {
        connection_name: 'upstream',
        identifier,
        authorization_details: { static_auth: { token: `${identifier}-secret-0c4d2e` } },
      });
      expect(account.status).toBe(201);
    }
    const config = await tenant.post<{ config: { id: string } }>('/api/v1/mcp/configs', {
      name: 'plain',
      connection_tool_mappings: [{ connection_name: 'upstream', tools: ['echo', 'add', 'image', 'rich', 'fail', 'progress'] }],
    });
    expect(config.status).toBe(201);
    const mint = async (identifier: string) =>
      (await tenant.post<{ token: string; mcp_server_url: string }>(`/api/v1/mcp/configs/${config.body.config.id}/tokens`, { identifier })).body;
    ({ token, mcp_server_url: mcpUrl } = await mint('alice'));
    bobToken = (await mint('bob')).token;
    agent = await connectAgent(mcpUrl, token);
    sessionId = (agent.transport as StreamableHTTPClientTransport).sessionId!;
  });

  afterAll(async () => {
    await agent?.close();
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  const post = async (body: unknown, headers: Record<string, string | undefined> = {}, bearer = token): Promise<Wire> => {
    const all: Record<string, string | undefined> = {
      Authorization: `Bearer ${bearer}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-11-25',
      ...headers,
    };
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined)),
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: Object.fromEntries([...res.headers].filter(([name]) => name !== 'date')), text };
  };
  const json = (wire: Wire) => JSON.parse(wire.text) as Record<string, unknown>;
  const call = (id: string | number, params: Record<string, unknown>) => ({ jsonrpc: '2.0', id, method: 'tools/call', params });
  /** The same request answered plain (by the edge) and with an empty `_meta` (by the SDK). */
  const both = async (id: string | number, params: Record<string, unknown>, headers?: Record<string, string | undefined>, bearer?: string) => {
    const plain = await post(call(id, params), headers, bearer);
    const sdk = await post(call(id, { ...params, _meta: {} }), headers, bearer);
    return { plain, sdk };
  };
  const logs = async (tool: string) =>
    ((await tenant.get(`/api/v1/tool_call_logs?page_size=200&tool_name=${tool}`)).body as { tool_call_logs: Entry[] }).tool_call_logs;

  it.each([
    ['a text result', 1, { name: 'echo', arguments: { text: 'hello' } }],
    ['a string id', 'call-7', { name: 'echo', arguments: { text: 'string id' } }],
    ['structured content', 2, { name: 'add', arguments: { a: 2, b: 3 } }],
    ['an image', 3, { name: 'image' }],
    ['keys MCP does not define (dropped by both)', 4, { name: 'rich', arguments: {} }],
    ["the tool's own error result", 5, { name: 'fail', arguments: {} }],
    ['arguments the schema refuses', 6, { name: 'add', arguments: { a: 'two', b: 3 } }],
    ['a tool the config does not map', 7, { name: 'whoami', arguments: {} }],
    ['a tool nobody has', 8, { name: 'no_such_tool', arguments: {} }],
  ])('answers %s byte for byte as the SDK does', async (_case, id, params) => {
    const { plain, sdk } = await both(id, params);
    expect(plain).toEqual(sdk);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toMatch(/^application\/json/);
    expect(json(plain)).toMatchObject({ jsonrpc: '2.0', id });
  });

  it('answers a request without a protocol version header as the SDK does', async () => {
    const { plain, sdk } = await both(9, { name: 'echo', arguments: { text: 'no header' } }, { 'mcp-protocol-version': undefined });
    expect(plain).toEqual(sdk);
    expect(json(plain)).toMatchObject({ result: { content: [{ type: 'text', text: 'no header' }] } });
  });

  it("drops the keys MCP does not define from content blocks, as the SDK does, and keeps the result's own", async () => {
    const { plain } = await both(10, { name: 'rich', arguments: {} });
    expect(json(plain)['result']).toEqual({
      content: [
        { type: 'text', text: 'rich', annotations: { audience: ['user'] } },
        { type: 'resource', resource: { uri: 'file:///a.txt', text: 'a' } },
      ],
      _meta: { 'vendor.example/trace': 'abc' },
      vendor_summary: 'kept or dropped by the gateway',
    });
  });

  it('records both kinds of call alike in the audit trail', async () => {
    // A tool no other test here calls: its records are these two calls' only.
    const answers = await both(12, { name: 'progress', arguments: { steps: 2 } });
    expect(json(answers.plain)).toMatchObject({ result: { content: [{ type: 'text', text: 'done in 2 steps (no progress asked)' }] } });
    const entries = await waitFor(
      async () => {
        const fresh = (await logs('progress')).filter((e) => e.status !== 'STARTED');
        return fresh.length === 2 ? fresh : undefined;
      },
      { what: 'the audit entries of both calls' },
    );
    // Everything but the ids and times.
    const [a, b] = entries.map(({ execution_id: _id, started_at: _s, finished_at: _f, duration_ms: _d, ...rest }) => rest);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ status: 'SUCCESS', arguments_sha256: expect.any(String), result_sha256: expect.any(String) });
  });

  it('answers success and refusals with the right shapes (not only equal ones)', async () => {
    const ok = await post(call(11, { name: 'echo', arguments: { text: 'shape' } }));
    expect(ok.text).toBe('{"result":{"content":[{"type":"text","text":"shape"}]},"jsonrpc":"2.0","id":11}');
    const refused = await post(call(13, { name: 'no_such_tool', arguments: {} }));
    expect(json(refused)).toMatchObject({ jsonrpc: '2.0', id: 13, error: { code: -32602, data: { code: 'TOOL_NOT_FOUND' } } });
  });

  it("refuses another user's session, an unknown one and a wrong version as the SDK path does", async () => {
    const params = { name: 'echo', arguments: { text: 'x' } };
    const foreign = await both(21, params, {}, bobToken);
    expect(foreign.plain).toEqual(foreign.sdk);
    expect(foreign.plain.status).toBe(404);
    expect(json(foreign.plain)).toMatchObject({ error: { code: -32001, message: 'Session not found' } });
    const unknown = await both(22, params, { 'mcp-session-id': 'AAAAAAAAAAAAAAAAAAAAAA' });
    expect(unknown.plain).toEqual(unknown.sdk);
    expect(unknown.plain.status).toBe(404);
    const version = await both(23, params, { 'mcp-protocol-version': '2025-06-18' });
    expect(version.plain).toEqual(version.sdk);
    expect(version.plain.status).toBe(400);
  });

  it('leaves to the SDK what it alone refuses: a narrow Accept header, ids JSON-RPC does not take, unknown keys', async () => {
    const params = { name: 'echo', arguments: { text: 'x' } };
    const callsBefore = upstream.calls.length;
    expect((await post(call(31, params), { accept: 'application/json' })).status).toBe(406);
    expect((await post(call(1.5, params))).status).toBe(400);
    // 2**53 + 1 parses as 2**53, past the integers JSON-RPC ids can carry exactly: refused, the tool never runs.
    expect((await post('{"jsonrpc":"2.0","id":9007199254740993,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}')).status).toBe(400);
    expect(upstream.calls.length).toBe(callsBefore);
    // Not a JSON-RPC message to the SDK: refused whole.
    const extra = await post({ ...call(32, params), extra: true });
    expect(extra.status).toBe(400);
    expect(json(extra)).toMatchObject({ id: 32, error: { code: -32600 } });
    // A task-augmented call to a server that offers no tasks: answered as a plain one, by the SDK.
    const withTask = await post(call(33, { ...params, task: { ttl: 1000 } }));
    expect(withTask.status).toBe(200);
    expect(json(withTask)).toMatchObject({ id: 33, result: { content: [{ type: 'text', text: 'x' }] } });
  });

  it('keeps serving SDK clients, whose plain calls take this path', async () => {
    for (let i = 0; i < 5; i++) expect(textOf(await agent.callTool({ name: 'echo', arguments: { text: `n${i}` } }))).toBe(`n${i}`);
    expect(upstream.calls.filter((c) => c.tool === 'echo' && c.arguments['text'] === 'n4')).toHaveLength(1);
  });
});
