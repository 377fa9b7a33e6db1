import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
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
import { textOf } from './mcp-client.js';

// Cancellation and progress for 2026-07-28 clients, through the official v2 client pinned
// to that revision. Over Streamable HTTP a 2026 client cancels by closing its request's
// stream (spec: basic/patterns/cancellation): no session, no notifications/cancelled. The
// gateway must treat that close as the cancellation: the upstream call stops and the audit
// log says CANCELLED, exactly as for a 2025 client's notifications/cancelled.

const MODERN = '2026-07-28';

interface Entry {
  execution_id: string;
  status: string;
  error_code: string | null;
}

/** A JSON-RPC message the client POSTed, and (once the server answered) the answer's body. */
interface Post {
  readonly message: { id?: number | string; method?: string; params?: { name?: string; _meta?: Record<string, unknown> } };
  answer?: { status: number; contentType: string | null; text: Promise<string> };
}

describe('cancellation and progress for 2026-07-28 clients', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let tenant: ApiClient;
  let mcpUrl: string;
  let token: string;
  const clients: Client[] = [];

  /** The v2 client pinned to 2026-07-28, recording every POST it sends and what came back. */
  const modernAgent = async () => {
    const posts: Post[] = [];
    const tap: typeof fetch = async (input, init) => {
      if (typeof init?.body !== 'string') return fetch(input, init);
      // Recorded before the answer: a cancelled call never gets one.
      const post: Post = { message: JSON.parse(init.body) as Post['message'] };
      posts.push(post);
      const res = await fetch(input, init);
      post.answer = { status: res.status, contentType: res.headers.get('content-type'), text: res.clone().text().catch(() => '') };
      return res;
    };
    const client = new Client({ name: 'vmcp-cancel-2026', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } }, fetch: tap }));
    clients.push(client);
    expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);
    return { client, posts };
  };
  const logs = async (tool: string) =>
    ((await tenant.get(`/api/v1/tool_call_logs?page_size=200&tool_name=${tool}`)).body as { tool_call_logs: Entry[] }).tool_call_logs;
  const ids = async (tool: string) => new Set((await logs(tool)).map((e) => e.execution_id));
  /** The newest finished entry of a tool not among `before`. */
  const newEntry = (tool: string, before: Set<string>) =>
    waitFor(async () => (await logs(tool)).find((e) => !before.has(e.execution_id) && e.status !== 'STARTED'), { what: `the audit entry of ${tool}` });
  const callsOf = (tool: string) => upstream.calls.filter((c) => c.tool === tool).length;
  /** notifications/cancelled POSTs the upstream received (the `progress` tool keeps no record of its own). */
  const upstreamCancels = () => upstream.requests.filter((r) => r.rpcMethod === 'notifications/cancelled').length;

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
    const admin = api(stack.baseUrl, stack.adminKey);
    tenant = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name: 'cancel-2026' })).body as { api_key: string }).api_key);
    expect((await tenant.post('/api/v1/connections', { name: 'upstream', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } })).status).toBe(201);
    expect(
      (await tenant.post('/api/v1/connected_accounts', { connection_name: 'upstream', identifier: 'alice', authorization_details: { static_auth: { token: 'alice-2026-7c1d' } } }))
        .status,
    ).toBe(201);
    const config = await tenant.post<{ config: { id: string } }>('/api/v1/mcp/configs', {
      name: 'cancel-2026',
      connection_tool_mappings: [{ connection_name: 'upstream', tools: ['echo', 'slow', 'progress'] }],
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

  it('stops the call upstream when the 2026 client aborts it, records CANCELLED, and keeps serving', async () => {
    const { client, posts } = await modernAgent();
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'warm' } }))).toBe('warm');
    const sessions = upstream.initializeCount();
    const before = await ids('slow');
    const cancelledBefore = upstream.cancelled.length;
    const running = callsOf('slow');
    const sent = posts.length;

    const controller = new AbortController();
    const call = client.callTool({ name: 'slow', arguments: { ms: 30_000 } }, { signal: controller.signal, timeout: 60_000 });
    call.catch(() => undefined);
    await waitFor(() => callsOf('slow') > running, { what: 'the slow call to reach the upstream' });
    const abortedAt = Date.now();
    controller.abort('changed my mind');
    await expect(call).rejects.toThrow();
    await waitFor(() => upstream.cancelled.length > cancelledBefore, { what: 'the upstream to see the cancellation' });
    // Promptly: long before the 30 s call would have ended (room left for a loaded CI machine).
    expect(Date.now() - abortedAt).toBeLessThan(10_000);
    // The client closed the request's stream and posted nothing else (no notifications/cancelled).
    expect(posts.slice(sent).map((p) => p.message.method)).toEqual(['tools/call']);

    expect(await newEntry('slow', before)).toMatchObject({ status: 'ERROR', error_code: 'CANCELLED' });
    // The gateway and the pooled upstream session are fine: the next call reuses it.
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'after' } }))).toBe('after');
    expect(upstream.initializeCount()).toBe(sessions);
  });

  it('stops a call whose answer is already streaming progress when the client closes the stream', async () => {
    const { client } = await modernAgent();
    const before = await ids('progress');
    const cancelsBefore = upstreamCancels();
    const controller = new AbortController();
    const seen: unknown[] = [];
    // Twenty steps a second apart: the call is still running when the first step arrives.
    const call = client.callTool(
      { name: 'progress', arguments: { steps: 20, delay_ms: 1000 } },
      { signal: controller.signal, timeout: 60_000, onprogress: (p) => void seen.push(p) },
    );
    call.catch(() => undefined);
    await waitFor(() => seen.length > 0, { what: 'the first progress notification' });
    controller.abort();
    await expect(call).rejects.toThrow();
    await waitFor(() => upstreamCancels() > cancelsBefore, { what: 'the upstream to see notifications/cancelled' });
    expect(await newEntry('progress', before)).toMatchObject({ status: 'ERROR', error_code: 'CANCELLED' });
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'still here' } }))).toBe('still here');
  });

  it("relays the upstream's progress to the 2026 client under its own token, before the result", async () => {
    const { client, posts } = await modernAgent();
    const seen: unknown[] = [];
    const result = await client.callTool({ name: 'progress', arguments: { steps: 3 } }, { onprogress: (p) => void seen.push(p) });
    expect(textOf(result)).toBe('done in 3 steps');
    expect(seen).toEqual([1, 2, 3].map((i) => ({ progress: i, total: 3, message: `step ${i} of 3` })));

    // On the wire: the client's token comes back on each notification of the call's own SSE answer.
    const post = posts.find((p) => p.message.method === 'tools/call' && p.message.params?.name === 'progress')!;
    const progressToken = post.message.params?._meta?.['progressToken'];
    expect(progressToken).toBeDefined();
    expect(post.answer?.contentType).toMatch(/^text\/event-stream/);
    const frames = (await post.answer!.text)
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as { method?: string; params?: Record<string, unknown>; id?: unknown; result?: unknown });
    expect(frames.map((f) => f.method ?? 'result')).toEqual(['notifications/progress', 'notifications/progress', 'notifications/progress', 'result']);
    for (const f of frames.slice(0, 3)) expect(f.params?.['progressToken']).toBe(progressToken);
    expect(frames[3]).toMatchObject({ id: post.message.id, result: { resultType: 'complete' } });

    // Without onprogress: no token, a plain JSON answer, and no progress asked upstream.
    expect(textOf(await client.callTool({ name: 'progress', arguments: { steps: 3 } }))).toBe('done in 3 steps (no progress asked)');
    expect(posts.at(-1)!.answer?.contentType).toMatch(/^application\/json/);
  });

  it('does not stop a call for a posted notifications/cancelled: over HTTP the stream is the signal', async () => {
    // Without a session a request id names no one call (every client counts its own ids):
    // acting on it could stop another agent's call. The notification is accepted and ignored.
    const { client, posts } = await modernAgent();
    const before = await ids('slow');
    const cancelledBefore = upstream.cancelled.length;
    const running = callsOf('slow');
    const call = client.callTool({ name: 'slow', arguments: { ms: 1500 } });
    await waitFor(() => callsOf('slow') > running, { what: 'the slow call to reach the upstream' });
    const requestId = posts.find((p) => p.message.method === 'tools/call')!.message.id!;
    await client.notification({ method: 'notifications/cancelled', params: { requestId, reason: 'not the HTTP signal' } });
    expect(posts.at(-1)).toMatchObject({ message: { method: 'notifications/cancelled' }, answer: { status: 202 } });

    expect(textOf(await call)).toBe('waited 1500');
    expect(upstream.cancelled.length).toBe(cancelledBefore);
    expect(await newEntry('slow', before)).toMatchObject({ status: 'SUCCESS', error_code: null });
  });
});
