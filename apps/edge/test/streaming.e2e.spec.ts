import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
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
import { textOf } from './mcp-client.js';

// Streaming through the gateway: an agent's progressToken gets the upstream's progress
// notifications on the call's own stream, and an agent's cancellation (or its going away)
// stops the call upstream, on whichever edge replica the cancellation lands.

interface Entry {
  execution_id: string;
  tool_name: string;
  status: string;
  error_code: string | null;
}

describe('streaming through the gateway', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let replica: EdgeReplica;
  let tenant: ApiClient;
  let tenantKey: string;
  let mcpUrl: string;
  let token: string;
  const clients: Client[] = [];

  /** An SDK client; `route` may send some POSTs to another replica (by their JSON-RPC method). */
  const agent = async (route?: (method: string | undefined) => string | undefined) => {
    const client = new Client({ name: 'vmcp-streaming-e2e', version: '1.0.0' });
    const fetchVia: typeof fetch = (input, init) => {
      const method = typeof init?.body === 'string' ? ((JSON.parse(init.body) as { method?: string }).method ?? undefined) : undefined;
      const base = route?.(method);
      if (!base) return fetch(input, init);
      const url = new URL(input instanceof Request ? input.url : String(input));
      return fetch(new URL(url.pathname, base), init);
    };
    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } }, fetch: fetchVia });
    await client.connect(transport);
    clients.push(client);
    return client;
  };
  const logs = async (tool: string) =>
    ((await tenant.get(`/api/v1/tool_call_logs?page_size=200&tool_name=${tool}`)).body as { tool_call_logs: Entry[] }).tool_call_logs;
  /** The newest finished entry of a tool not among `before`. */
  const newEntry = (tool: string, before: Set<string>) =>
    waitFor(async () => (await logs(tool)).find((e) => !before.has(e.execution_id) && e.status !== 'STARTED'), { what: `the audit entry of ${tool}` });
  const ids = async (tool: string) => new Set((await logs(tool)).map((e) => e.execution_id));
  const slowCalls = () => upstream.calls.filter((c) => c.tool === 'slow').length;

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
    const admin = api(stack.baseUrl, stack.adminKey);
    const apiKey = ((await admin.post('/api/v1/tenants', { name: 'acme' })).body as { api_key: string }).api_key;
    tenant = api(stack.baseUrl, apiKey);
    tenantKey = `Bearer ${apiKey}`;
    expect((await tenant.post('/api/v1/connections', { name: 'upstream', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } })).status).toBe(201);
    expect(
      (await tenant.post('/api/v1/connected_accounts', { connection_name: 'upstream', identifier: 'alice', authorization_details: { static_auth: { token: 'alice-secret-7f3e1a' } } }))
        .status,
    ).toBe(201);
    const config = await tenant.post<{ config: { id: string } }>('/api/v1/mcp/configs', {
      name: 'streaming',
      connection_tool_mappings: [{ connection_name: 'upstream', tools: ['echo', 'slow', 'progress'], prefix: 'up_' }],
    });
    expect(config.status).toBe(201);
    const minted = await tenant.post<{ token: string; mcp_server_url: string }>(`/api/v1/mcp/configs/${config.body.config.id}/tokens`, { identifier: 'alice' });
    mcpUrl = minted.body.mcp_server_url;
    token = minted.body.token;
    replica = await stack.startEdgeReplica();
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it("relays the upstream's progress to the agent, in order, before the result", async () => {
    const client = await agent();
    const seen: Progress[] = [];
    const result = await client.callTool({ name: 'up_progress', arguments: { steps: 5 } }, undefined, { onprogress: (p) => void seen.push(p) });
    expect(textOf(result)).toBe('done in 5 steps');
    expect(seen).toEqual([1, 2, 3, 4, 5].map((i) => ({ progress: i, total: 5, message: `step ${i} of 5` })));
  });

  it("sends progress under the agent's own token on an SSE stream, and only when asked", async () => {
    const client = await agent();
    // The SDK client matches notifications to its call by its own token; check the wire too.
    const headers = { Authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId!;
    const call = (meta: Record<string, unknown> | undefined) =>
      fetch(mcpUrl, {
        method: 'POST',
        headers: { ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'up_progress', arguments: { steps: 2 }, ...(meta ? { _meta: meta } : {}) } }),
      });
    const streamed = await call({ progressToken: 'agent-token-42' });
    expect(streamed.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await streamed.text())
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as { method?: string; params?: unknown; id?: number });
    expect(events).toEqual([
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'agent-token-42', progress: 1, total: 2, message: 'step 1 of 2' } },
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'agent-token-42', progress: 2, total: 2, message: 'step 2 of 2' } },
      expect.objectContaining({ id: 7, result: expect.objectContaining({ content: [{ type: 'text', text: 'done in 2 steps' }] }) }),
    ]);
    // Without a token: a plain JSON answer, and the upstream is asked for no progress.
    const plain = await call(undefined);
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await plain.json()).toMatchObject({ id: 7, result: { content: [{ type: 'text', text: 'done in 2 steps (no progress asked)' }] } });
  });

  it('cancels a running call upstream when the agent aborts it, records it as CANCELLED, and keeps the upstream session', async () => {
    const client = await agent();
    await client.callTool({ name: 'up_echo', arguments: { text: 'warm' } });
    const sessions = upstream.initializeCount();
    const before = await ids('up_slow');
    const cancelledBefore = upstream.cancelled.length;
    const running = slowCalls();

    const controller = new AbortController();
    const call = client.callTool({ name: 'up_slow', arguments: { ms: 30_000 } }, undefined, { signal: controller.signal, timeout: 60_000 });
    call.catch(() => undefined);
    await waitFor(() => slowCalls() > running, { what: 'the slow call to reach the upstream' });
    const abortedAt = Date.now();
    controller.abort('changed my mind');
    await expect(call).rejects.toThrow();
    await waitFor(() => upstream.cancelled.length > cancelledBefore, { what: 'the upstream to see notifications/cancelled' });
    // Promptly: long before the 30 s call would have ended (room left for a loaded CI machine).
    expect(Date.now() - abortedAt).toBeLessThan(10_000);

    const entry = await newEntry('up_slow', before);
    expect(entry).toMatchObject({ status: 'ERROR', error_code: 'CANCELLED' });
    // The pooled upstream session survived: the next call reuses it.
    expect(textOf(await client.callTool({ name: 'up_echo', arguments: { text: 'after' } }))).toBe('after');
    expect(upstream.initializeCount()).toBe(sessions);
  });

  it('cancels a call held by one edge replica when the cancellation reaches another', async () => {
    // Every POST goes to the stack's edge except notifications/cancelled, which goes to the replica.
    const client = await agent((method) => (method === 'notifications/cancelled' ? replica.url : undefined));
    const before = await ids('up_slow');
    const cancelledBefore = upstream.cancelled.length;
    const running = slowCalls();
    const controller = new AbortController();
    const call = client.callTool({ name: 'up_slow', arguments: { ms: 30_000 } }, undefined, { signal: controller.signal, timeout: 60_000 });
    call.catch(() => undefined);
    await waitFor(() => slowCalls() > running, { what: 'the slow call to reach the upstream' });
    const abortedAt = Date.now();
    controller.abort();
    await waitFor(() => upstream.cancelled.length > cancelledBefore, { what: 'the upstream to see the cancellation' });
    // Promptly: long before the 30 s call would have ended (room left for a loaded CI machine).
    expect(Date.now() - abortedAt).toBeLessThan(10_000);
    expect(await newEntry('up_slow', before)).toMatchObject({ status: 'ERROR', error_code: 'CANCELLED' });
    expect(textOf(await client.callTool({ name: 'up_echo', arguments: { text: 'still here' } }))).toBe('still here');
  });

  it('stops the call when the client goes away mid-call', async () => {
    const client = await agent();
    const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId!;
    const before = await ids('up_slow');
    const cancelledBefore = upstream.cancelled.length;
    const running = slowCalls();
    const gone = new AbortController();
    const request = fetch(mcpUrl, {
      method: 'POST',
      signal: gone.signal,
      headers: {
        Authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'gone-1', method: 'tools/call', params: { name: 'up_slow', arguments: { ms: 30_000 } } }),
    });
    request.catch(() => undefined);
    await waitFor(() => slowCalls() > running, { what: 'the slow call to reach the upstream' });
    gone.abort();
    await waitFor(() => upstream.cancelled.length > cancelledBefore, { what: 'the upstream to see the cancellation' });
    expect(await newEntry('up_slow', before)).toMatchObject({ status: 'ERROR', error_code: 'CANCELLED' });
  });

  it('stops an execute_tool call when the backend that asked goes away', async () => {
    const configId = mcpUrl.split('/').pop()!;
    const cancelledBefore = upstream.cancelled.length;
    const running = slowCalls();
    const controller = new AbortController();
    const call = fetch(`${stack.baseUrl}/api/v1/execute_tool`, {
      method: 'POST',
      headers: { authorization: tenantKey, 'content-type': 'application/json' },
      body: JSON.stringify({ tool_name: 'up_slow', params: { ms: 30_000 }, identifier: 'alice', config_id: configId, agent_run_id: 'run-gone-1' }),
      signal: controller.signal,
    });
    call.catch(() => undefined);
    await waitFor(() => slowCalls() > running, { what: 'the slow call to reach the upstream' });
    controller.abort();
    await waitFor(() => upstream.cancelled.length > cancelledBefore, { what: 'the upstream to see notifications/cancelled' });
    const entry = await waitFor(async () => {
      const found = ((await tenant.get('/api/v1/tool_call_logs?agent_run_id=run-gone-1')).body as { tool_call_logs: Entry[] }).tool_call_logs;
      return found[0]?.status === 'ERROR' ? found[0] : undefined;
    });
    expect(entry).toMatchObject({ error_code: 'CANCELLED' });
  });
});
