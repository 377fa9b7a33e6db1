import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  api,
  startNatsServer,
  startStack,
  startUpstreamMcpServer,
  waitFor,
  type ApiClient,
  type EdgeReplica,
  type NatsServerHandle,
  type Stack,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError, textOf } from './mcp-client.js';

// 2025-era MCP sessions (protocol 2025-11-25, the v1 SDK client) live in NATS KV: any edge
// replica serves any session, a session is bound to the user who opened it, DELETE ends it
// everywhere and an idle one expires. The stack runs a second edge process next to its own,
// and the agent's HTTP requests go to whichever of the two `target` names.

const IDLE_SECONDS = 5;
const ALICE_SECRET = 'alice-session-secret-51c0';
const BOB_SECRET = 'bob-session-secret-9e2a';
const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;

describe('MCP sessions across edge replicas', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let replica: EdgeReplica;
  let tenant: ApiClient;
  let supportId: string;
  let supportUrl: string;
  let otherId: string;
  let otherUrl: string;
  /** Base URL the agents' requests go to: the stack's own edge (A) or the replica (B). */
  let target: string;
  const clients: Client[] = [];

  const mint = async (configId: string, identifier: string) => {
    const r = await tenant.post<{ token: string; token_id: string }>(`/api/v1/mcp/configs/${configId}/tokens`, { identifier });
    expect(r.status).toBe(201);
    return r.body;
  };
  const viaTarget = (url: string | URL, init?: RequestInit) => fetch(String(url).replace(stack.publicUrl, target), init);
  /** The official v1 SDK client (2025-11-25); with `sessionId` it resumes that session instead of initializing. */
  const agent = async (url: string, token: string, sessionId?: string) => {
    const transport = new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
      fetch: viaTarget,
      ...(sessionId ? { sessionId } : {}),
    });
    const client = new Client({ name: 'vmcp-sessions-agent', version: '1.0.0' });
    await client.connect(transport);
    clients.push(client);
    return { client, transport };
  };
  /** A raw JSON-RPC POST on a session (for what an SDK client would never send). */
  const post = (url: string, token: string, headers: Record<string, string>, body: unknown = { jsonrpc: '2.0', id: 7, method: 'tools/list' }) =>
    fetch(url.replace(stack.publicUrl, target), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite', serviceEnv: { edge: { VMCP_SESSION_IDLE_SECONDS: String(IDLE_SECONDS) } } });
    replica = await stack.startEdgeReplica();
    target = stack.baseUrl;
    const admin = api(stack.baseUrl, stack.adminKey);
    tenant = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name: 'sessions' })).body as { api_key: string }).api_key);
    await tenant.post('/api/v1/connections', { name: 'upstream', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } });
    for (const [identifier, token] of [['alice', ALICE_SECRET], ['bob', BOB_SECRET]] as const) {
      const r = await tenant.post('/api/v1/connected_accounts', { connection_name: 'upstream', identifier, authorization_details: { static_auth: { token } } });
      expect(r.status).toBe(201);
    }
    const config = async (name: string) => {
      const r = await tenant.post<{ config: { id: string; mcp_server_url: string } }>('/api/v1/mcp/configs', {
        name,
        connection_tool_mappings: [{ connection_name: 'upstream', tools: ['echo', 'whoami'] }],
      });
      expect(r.status).toBe(201);
      return r.body.config;
    };
    ({ id: supportId, mcp_server_url: supportUrl } = await config('support'));
    ({ id: otherId, mcp_server_url: otherUrl } = await config('other'));
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('opens a session on initialize that either replica serves', async () => {
    const alice = await mint(supportId, 'alice');
    target = stack.baseUrl;
    const { client, transport } = await agent(supportUrl, alice.token);
    expect(transport.sessionId).toMatch(SESSION_ID);
    expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toContain(ALICE_SECRET);
    target = replica.url;
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'on B' } }))).toBe('on B');
    target = stack.baseUrl;
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'back on A' } }))).toBe('back on A');
  });

  it('ends a session with DELETE on every replica', async () => {
    const alice = await mint(supportId, 'alice');
    target = stack.baseUrl;
    const { transport } = await agent(supportUrl, alice.token);
    const sessionId = transport.sessionId!;
    target = replica.url;
    await transport.terminateSession();
    const ended = async (base: string) => {
      target = base;
      const res = await post(supportUrl, alice.token, { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const notFound = { status: 404, body: { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: 7 } };
    // At once on the replica that ended it; the other drops its copy when the bus tells it,
    // which on a loaded machine may come a moment after the DELETE's reply: within a second.
    expect(await ended(replica.url)).toEqual(notFound);
    const other = await waitFor(async () => {
      const r = await ended(stack.baseUrl);
      return r.status === 404 ? r : undefined;
    }, { timeoutMs: 1000, intervalMs: 20, what: 'the other replica to refuse the ended session' });
    expect(other).toEqual(notFound);
    // An SDK client resuming the ended session is refused the same way.
    const { client: resumed } = await agent(supportUrl, alice.token, sessionId);
    await expect(resumed.listTools()).rejects.toMatchObject({ code: 404 });
    // Deleting it again: it is gone.
    const again = await fetch(supportUrl, { method: 'DELETE', headers: { authorization: `Bearer ${alice.token}`, 'mcp-session-id': sessionId } });
    expect(again.status).toBe(404);
  });

  it("answers another user's session like an unknown one, and leaves it alone", async () => {
    const alice = await mint(supportId, 'alice');
    const bob = await mint(supportId, 'bob');
    const aliceOther = await mint(otherId, 'alice');
    target = stack.baseUrl;
    const { client, transport } = await agent(supportUrl, alice.token);
    const sessionId = transport.sessionId!;

    const unknown = await post(supportUrl, bob.token, { 'mcp-session-id': 'AAAAAAAAAAAAAAAAAAAAAA' });
    const stolen = await post(supportUrl, bob.token, { 'mcp-session-id': sessionId });
    expect([unknown.status, stolen.status]).toEqual([404, 404]);
    expect(await stolen.json()).toEqual(await unknown.json());
    // The same user through another config's URL and token: another MCP server, so no such session.
    expect((await post(otherUrl, aliceOther.token, { 'mcp-session-id': sessionId })).status).toBe(404);
    // The SDK client resuming the session with bob's token is refused; bob cannot end it either.
    const { client: bobClient } = await agent(supportUrl, bob.token, sessionId);
    expect(await callError(bobClient, 'whoami')).toMatchObject({ rpc: 404 });
    const end = await fetch(supportUrl, { method: 'DELETE', headers: { authorization: `Bearer ${bob.token}`, 'mcp-session-id': sessionId } });
    expect(end.status).toBe(404);
    expect(upstream.calls.some((c) => JSON.stringify(c.headers).includes(BOB_SECRET) && c.tool === 'whoami')).toBe(false);

    expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toContain(ALICE_SECRET);
    // A newer token of the same user carries on the same session.
    const { client: renewed } = await agent(supportUrl, (await mint(supportId, 'alice')).token, sessionId);
    expect(textOf(await renewed.callTool({ name: 'echo', arguments: { text: 'renewed' } }))).toBe('renewed');
  });

  it('refuses a revoked token mid-session with 401', async () => {
    const alice = await mint(supportId, 'alice');
    target = replica.url;
    const { client } = await agent(supportUrl, alice.token);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'before' } }))).toBe('before');
    expect((await tenant.delete(`/api/v1/mcp/tokens/${alice.token_id}`)).status).toBe(200);
    await waitFor(async () => (await callError(client, 'echo', { text: 'after' })) !== 'ok', { timeoutMs: 2000, what: 'the revoked token to be refused' });
    expect(await callError(client, 'echo', { text: 'after' })).toMatchObject({ rpc: 401 });
  });

  it('refuses bad session input without touching the store', async () => {
    const alice = await mint(supportId, 'alice');
    target = stack.baseUrl;
    const { transport } = await agent(supportUrl, alice.token);
    const sessionId = transport.sessionId!;

    const none = await post(supportUrl, alice.token, {});
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({ error: { code: -32000, message: expect.stringMatching(/Mcp-Session-Id/) }, id: 7 });
    for (const malformed of ['not a session', `${sessionId}x`, sessionId.slice(1), 'A'.repeat(4000), '../../$KV.>']) {
      const res = await post(supportUrl, alice.token, { 'mcp-session-id': malformed });
      expect(res.status, malformed).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: -32001 } });
    }
    // Another protocol version than the one the session negotiated.
    expect((await post(supportUrl, alice.token, { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-03-26' })).status).toBe(400);
    // Headers beyond Node's limit never reach the endpoint.
    expect((await post(supportUrl, alice.token, { 'mcp-session-id': sessionId, 'x-pad': 'x'.repeat(20_000) })).status).toBe(431);
    // Oversized capabilities are not stored.
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: { experimental: { pad: { x: 'x'.repeat(20_000) } } }, clientInfo: { name: 'big', version: '1' } },
    };
    const big = await post(supportUrl, alice.token, {}, init);
    expect(big.status).toBe(400);
    expect(big.headers.get('mcp-session-id')).toBeNull();
    // The session itself is still fine.
    expect((await post(supportUrl, alice.token, { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' })).status).toBe(200);
  });

  it('keeps a session in use past the idle timeout and ends an idle one', async () => {
    const alice = await mint(supportId, 'alice');
    target = stack.baseUrl;
    const { client, transport } = await agent(supportUrl, alice.token);
    const started = Date.now();
    // In use, alternately on each replica, for longer than the idle timeout.
    for (let i = 0; Date.now() - started < (IDLE_SECONDS + 2) * 1000; i++) {
      target = i % 2 ? replica.url : stack.baseUrl;
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: `tick ${i}` } }))).toBe(`tick ${i}`);
      await new Promise((r) => setTimeout(r, 700));
    }
    // Idle is the behaviour under test: nothing may touch the session meanwhile.
    await new Promise((r) => setTimeout(r, (IDLE_SECONDS + 1.5) * 1000));
    const res = await post(supportUrl, alice.token, { 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-11-25' });
    expect(res.status).toBe(404);
    await expect(client.listTools()).rejects.toMatchObject({ code: 404 });
    // The client starts over with a new session.
    const { client: fresh, transport: freshTransport } = await agent(supportUrl, alice.token);
    expect(freshTransport.sessionId).not.toBe(transport.sessionId);
    expect(textOf(await fresh.callTool({ name: 'echo', arguments: { text: 'again' } }))).toBe('again');
  }, 40_000);

  // Last: the stack's own edge stays down afterwards.
  it('carries a session on to the other replica when its edge stops', async () => {
    const alice = await mint(supportId, 'alice');
    target = stack.baseUrl;
    const { client, transport } = await agent(supportUrl, alice.token);
    const sessionId = transport.sessionId;
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'on A' } }))).toBe('on A');
    await stack.stop('edge');
    target = replica.url;
    expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toContain(ALICE_SECRET);
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
    expect(transport.sessionId).toBe(sessionId);
  });

  // Last: it stops NATS for a moment.
  it('answers 503 with Retry-After and a JSON-RPC UNAVAILABLE while the session store cannot be reached, and answers from it once it is back', async () => {
    // The test above stopped the stack's own edge.
    await stack.start('edge');
    const alice = await mint(supportId, 'alice');
    target = stack.baseUrl;
    const { transport } = await agent(supportUrl, alice.token);
    const sessionId = transport.sessionId!;
    // A replica that has no copy of this session: it must ask the store, which will not be there.
    const fresh = await stack.startEdgeReplica();
    // It has verified a token of this config once (it keeps policy's keys), on no session.
    target = fresh.url;
    expect((await post(supportUrl, alice.token, {})).status).toBe(400);
    await nats.halt();
    try {
      target = fresh.url;
      const res = await post(supportUrl, alice.token, { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toEqual({ jsonrpc: '2.0', error: { code: -32603, message: 'MCP sessions are unavailable now', data: { code: 'UNAVAILABLE' } }, id: 7 });
    } finally {
      await nats.restart();
    }
    // The store answers again (this file's sessions idle out after 5 s, so it may be gone by now).
    const status = await waitFor(
      async () => {
        const r = await post(supportUrl, alice.token, { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' });
        return r.status !== 503 ? r.status : undefined;
      },
      { what: 'the session store back', timeoutMs: 20_000 },
    );
    expect([200, 404]).toContain(status);
    await fresh.stop();
  });
});
