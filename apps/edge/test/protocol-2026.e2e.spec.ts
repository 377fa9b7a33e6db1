import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import type { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import {
  api,
  startNatsServer,
  startStack,
  startUpstreamMcpServer,
  waitFor,
  type ApiClient,
  type NatsServerHandle,
  type Stack,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError, connectAgent, textOf } from './mcp-client.js';

// The 2026-07-28 revision (stateless: server/discover, a `_meta` envelope on every request,
// Mcp-Method/Mcp-Name headers) on the same URL as 2025-era clients, through the official
// v2 client pinned to it; the same auth, tools and policy for both. Pages of three tools, so
// the upstream's eight tools take three pages, the last one short.

const PAGE_SIZE = 3;
const LIST_TTL_MS = 15_000;
const ALICE_SECRET = 'alice-2026-secret-0d3f';
const MODERN = '2026-07-28';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw-2026', version: '1.0.0' },
};

interface Seen {
  readonly method: string;
  readonly headers: Headers;
  readonly status: number;
  readonly body: unknown;
}

describe('MCP 2026-07-28 next to 2025-11-25 on one URL', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let tenant: ApiClient;
  let supportId: string;
  let supportUrl: string;
  let everythingId: string;
  let everythingUrl: string;
  const closers: Array<{ close(): Promise<void> }> = [];

  const mint = async (configId: string, identifier = 'alice') => {
    const r = await tenant.post<{ token: string; token_id: string }>(`/api/v1/mcp/configs/${configId}/tokens`, { identifier });
    expect(r.status).toBe(201);
    return r.body;
  };
  /** The official v2 client, pinned to 2026-07-28, recording every HTTP exchange. */
  const modernAgent = async (url: string, token: string) => {
    const seen: Seen[] = [];
    const tap = async (input: string | URL | Request, init?: RequestInit) => {
      const res = await fetch(input, init);
      const text = await res.clone().text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON
      }
      seen.push({ method: init?.method ?? 'GET', headers: new Headers(init?.headers), status: res.status, body });
      return res;
    };
    const client = new ModernClient({ name: 'vmcp-2026-agent', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    await client.connect(new ModernTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } }, fetch: tap }));
    closers.push(client);
    return { client, seen };
  };
  const legacyAgent = async (url: string, token: string): Promise<LegacyClient> => {
    const client = await connectAgent(url, token);
    closers.push(client);
    return client;
  };
  /** A hand-built 2026-07-28 request, for what the SDK client would never send. */
  const modernPost = (url: string, token: string | undefined, method: string, params: Record<string, unknown>, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': MODERN,
        'mcp-method': method,
        ...(typeof params.name === 'string' ? { 'mcp-name': params.name } : {}),
        ...headers,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method, params: { _meta: ENVELOPE, ...params } }),
    });

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    stack = await startStack({
      natsUrl: nats.url,
      database: 'sqlite',
      serviceEnv: { edge: { VMCP_TOOLS_PAGE_SIZE: String(PAGE_SIZE), VMCP_TOOLS_LIST_TTL_MS: String(LIST_TTL_MS) } },
    });
    const admin = api(stack.baseUrl, stack.adminKey);
    tenant = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name: 'modern' })).body as { api_key: string }).api_key);
    await tenant.post('/api/v1/connections', { name: 'upstream', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } });
    const account = await tenant.post('/api/v1/connected_accounts', {
      connection_name: 'upstream',
      identifier: 'alice',
      authorization_details: { static_auth: { token: ALICE_SECRET } },
    });
    expect(account.status).toBe(201);
    const config = async (name: string, tools: string[]) => {
      const r = await tenant.post<{ config: { id: string; mcp_server_url: string } }>('/api/v1/mcp/configs', {
        name,
        connection_tool_mappings: [{ connection_name: 'upstream', tools }],
      });
      expect(r.status).toBe(201);
      return r.body.config;
    };
    ({ id: supportId, mcp_server_url: supportUrl } = await config('support', ['echo', 'whoami']));
    ({ id: everythingId, mcp_server_url: everythingUrl } = await config('everything', ['*']));
  });

  afterAll(async () => {
    await Promise.allSettled(closers.map((c) => c.close()));
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('discovers the server and serves 2026-07-28 without a session', async () => {
    const { client, seen } = await modernAgent(supportUrl, (await mint(supportId)).token);
    expect(client.getProtocolEra()).toBe('modern');
    expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);
    expect(client.getDiscoverResult()).toMatchObject({ supportedVersions: [MODERN], capabilities: { tools: {} } });
    expect(seen[0]).toMatchObject({ method: 'POST', status: 200 });
    expect(seen[0]!.headers.get('mcp-method')).toBe('server/discover');
    expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toContain(ALICE_SECRET);
    for (const exchange of seen) {
      expect(exchange.headers.get('mcp-session-id')).toBeNull();
      expect(exchange.headers.get('mcp-protocol-version')).toBe(MODERN);
    }
    const call = seen.find((s) => s.headers.get('mcp-method') === 'tools/call')!;
    expect(call.headers.get('mcp-name')).toBe('whoami');
    expect(call.body).toMatchObject({ result: { resultType: 'complete', _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'vmcp' } } } });
  });

  it('lists and calls with the same policy and errors as 2025 clients, with private cache hints', async () => {
    const token = (await mint(supportId)).token;
    const { client } = await modernAgent(supportUrl, token);
    const listed = await client.listTools();
    expect(listed.tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
    expect(listed).toMatchObject({ ttlMs: LIST_TTL_MS, cacheScope: 'private' });
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'modern' } }))).toBe('modern');
    // Unmapped and non-existent: one error, as for 2025 clients (same code and data.code).
    const legacy = await legacyAgent(supportUrl, token);
    for (const name of ['add', 'no_such_tool']) {
      const modernError = await client.callTool({ name, arguments: {} }).then(
        () => 'ok',
        (e: { code?: number; data?: { code?: string } }) => ({ rpc: e.code, code: e.data?.code }),
      );
      expect(modernError, name).toEqual({ rpc: -32602, code: 'TOOL_NOT_FOUND' });
      expect(await callError(legacy, name)).toMatchObject({ rpc: -32602, code: 'TOOL_NOT_FOUND' });
    }
    const invalid = await client.callTool({ name: 'echo', arguments: { text: 42 } }).catch((e: { data?: { code?: string } }) => e.data?.code);
    expect(invalid).toBe('INVALID_ARGUMENT');
  });

  it('pages tools/list in both revisions and refuses a cursor it never gave', async () => {
    const token = (await mint(everythingId)).token;
    // 2026-07-28: the v2 client walks the pages itself.
    const { client, seen } = await modernAgent(everythingUrl, token);
    const all = (await client.listTools()).tools.map((t) => t.name);
    expect(all).toHaveLength(10);
    const pages = seen.filter((s) => s.headers.get('mcp-method') === 'tools/list').map((s) => s.body as { result: { tools: unknown[]; nextCursor?: string } });
    expect(pages.map((p) => p.result.tools.length)).toEqual([3, 3, 3, 1]);
    expect(pages.map((p) => typeof p.result.nextCursor)).toEqual(['string', 'string', 'string', 'undefined']);
    const second = await client.listTools({ cursor: pages[0]!.result.nextCursor! });
    expect(second.tools.map((t) => t.name)).toEqual(all.slice(3, 6));
    await expect(client.listTools({ cursor: 'bm90LW91cnM' })).rejects.toMatchObject({ code: -32602, data: { code: 'INVALID_ARGUMENT' } });

    // 2025-11-25: the v1 client asks page by page; same order, same pages.
    const legacy = await legacyAgent(everythingUrl, token);
    const walked: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await legacy.listTools(cursor ? { cursor } : {});
      walked.push(page.tools.map((t) => t.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(walked).toEqual([all.slice(0, 3), all.slice(3, 6), all.slice(6, 9), all.slice(9)]);
    await expect(legacy.listTools({ cursor: 'bm90LW91cnM' })).rejects.toMatchObject({ code: -32602, data: { code: 'INVALID_ARGUMENT' } });
  });

  it('checks Mcp-Method and Mcp-Name against the body (-32020)', async () => {
    const token = (await mint(supportId)).token;
    const cases: Array<[string, Record<string, unknown>, Record<string, string>]> = [
      ['tools/list', {}, { 'mcp-method': 'tools/call' }],
      ['tools/call', { name: 'echo', arguments: { text: 'x' } }, { 'mcp-name': 'whoami' }],
      ['tools/call', { name: 'echo', arguments: { text: 'x' } }, { 'mcp-name': '' }],
      ['tools/list', {}, { 'mcp-protocol-version': '2025-11-25' }],
    ];
    const before = upstream.calls.length;
    for (const [method, params, headers] of cases) {
      const res = await modernPost(supportUrl, token, method, params, headers);
      expect(res.status, JSON.stringify(headers)).toBe(400);
      expect(await res.json(), JSON.stringify(headers)).toMatchObject({ jsonrpc: '2.0', error: { code: -32020 } });
    }
    expect(upstream.calls.length).toBe(before);
  });

  it('answers an unknown protocol version with -32022 and the supported list', async () => {
    const token = (await mint(supportId)).token;
    const res = await fetch(supportUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2099-01-01',
        'mcp-method': 'tools/list',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list', params: { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } } }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ id: 5, error: { code: -32022, data: { supported: [MODERN], requested: '2099-01-01' } } });
  });

  it('refuses a 2026-07-28 request without its version headers, and GET or DELETE', async () => {
    const token = (await mint(supportId)).token;
    const bare = await fetch(supportUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/list', params: { _meta: ENVELOPE } }),
    });
    expect(bare.status).toBe(400);
    expect(await bare.json()).toMatchObject({ id: 6, error: { code: -32020, data: { mismatch: { header: '(missing)' } } } });
    // A modern protocol header on a body without the envelope.
    const noEnvelope = await fetch(supportUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/list' }),
    });
    expect(noEnvelope.status).toBe(400);
    expect(await noEnvelope.json()).toMatchObject({ id: 6, error: { code: -32602, data: { envelope: { missing: ['_meta'] } } } });

    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(supportUrl, { method, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'mcp-protocol-version': MODERN } });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
      expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
    }
  });

  it('authenticates 2026-07-28 requests like any other: challenge, revocation', async () => {
    const missing = await modernPost(supportUrl, undefined, 'tools/list', {});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer .*resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp\/cfg_/);
    expect((await modernPost(supportUrl, 'not-a-jwt', 'tools/list', {})).status).toBe(401);
    // Another config's token.
    expect((await modernPost(supportUrl, (await mint(everythingId)).token, 'tools/list', {})).status).toBe(401);

    const minted = await mint(supportId);
    const { client } = await modernAgent(supportUrl, minted.token);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'before' } }))).toBe('before');
    expect((await tenant.delete(`/api/v1/mcp/tokens/${minted.token_id}`)).status).toBe(200);
    await waitFor(async () => (await modernPost(supportUrl, minted.token, 'tools/list', {})).status === 401, { timeoutMs: 2000, what: 'revocation' });
    await expect(client.callTool({ name: 'echo', arguments: { text: 'after' } })).rejects.toThrow();
  });

  it('still serves a 2025-11-25 client on the same URL, with its session', async () => {
    const client = await legacyAgent(supportUrl, (await mint(supportId)).token);
    expect(client.getServerVersion()).toMatchObject({ name: 'vmcp' });
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
    expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toContain(ALICE_SECRET);
  });
});
