import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { api, startNatsServer, startStack, startUpstreamMcpServer, waitFor, type ApiClient, type NatsServerHandle, type Stack, type UpstreamMcpServer } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A rolling update or a node drain sends the executor SIGTERM while it runs tool calls. It
// must leave its queue group (another replica takes the new calls) and still answer every
// call it holds, however long the call takes within its deadline, before it exits.

/** Longer than anything before its release (`releaseSlow`), shorter than the tool deadline. */
const SLOW_MS = 40_000;
/** The slow call is released no sooner than this after SIGTERM: past the fixed 2 s the NATS transport used to give calls in flight. */
const HELD_AFTER_SIGTERM_MS = 3000;

interface Entry {
  execution_id: string;
  tool_name: string;
  status: string;
  error_code: string | null;
}

const textOf = (result: unknown) =>
  ((result as { content?: Array<{ type: string; text?: string }> }).content ?? [])
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join('');

describe('executor shutdown', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let tenant: ApiClient;
  let agent: Client;

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    // A tool timeout past the slow call's own wait (released by the test long before it); a
    // reply that is lost shows as this test's own timeout.
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite', env: { VMCP_TOOL_TIMEOUT_MS: '45000' } });
    const admin = api(stack.baseUrl, stack.adminKey);
    tenant = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name: 'acme' })).body as { api_key: string }).api_key);
    expect((await tenant.post('/api/v1/connections', { name: 'upstream', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } })).status).toBe(201);
    const account = await tenant.post('/api/v1/connected_accounts', {
      connection_name: 'upstream',
      identifier: 'alice',
      authorization_details: { static_auth: { token: 'alice-upstream-token' } },
    });
    expect(account.status).toBe(201);
    const config = await tenant.post<{ config: { id: string } }>('/api/v1/mcp/configs', {
      name: 'drain',
      connection_tool_mappings: [{ connection_name: 'upstream', tools: ['slow', 'echo'] }],
    });
    expect(config.status).toBe(201);
    const minted = await tenant.post<{ token: string; mcp_server_url: string }>(`/api/v1/mcp/configs/${config.body.config.id}/tokens`, { identifier: 'alice' });
    agent = new Client({ name: 'drain-agent', version: '1.0.0' });
    await agent.connect(new StreamableHTTPClientTransport(new URL(minted.body.mcp_server_url), { requestInit: { headers: { Authorization: `Bearer ${minted.body.token}` } } }));
  });

  afterAll(async () => {
    await agent?.close().catch(() => undefined);
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('answers a call still running at SIGTERM, audited SUCCESS, while a second replica takes the new calls', async () => {
    let settled = false;
    const slow = agent.callTool({ name: 'slow', arguments: { ms: SLOW_MS } }, undefined, { timeout: 60_000 }).finally(() => (settled = true));
    await waitFor(() => upstream.calls.some((c) => c.tool === 'slow'), { what: 'the slow call upstream' });
    // The running executor holds the call; a second one joins the queue group.
    const replica = await stack.startReplica('executor');
    expect(settled, 'the slow call must still be running when the executor is told to stop').toBe(false);

    const stopping = stack.stop('executor');
    // The slow call ends HELD_AFTER_SIGTERM_MS after SIGTERM (a lower bound: it has outlived
    // the old 2 s), whatever the time the replica took to start on a loaded machine, and well
    // within the 10 s the harness gives a stopping service.
    const released = new Promise<number>((resolve) =>
      setTimeout(() => resolve(settled ? -1 : upstream.releaseSlow()), HELD_AFTER_SIGTERM_MS),
    );
    // Calls made while the first executor drains are answered (by it, until it has left the
    // group, then by the replica), none is refused or lost.
    for (let i = 0; i < 5; i++) {
      expect(textOf(await agent.callTool({ name: 'echo', arguments: { text: `during ${i}` } }))).toBe(`during ${i}`);
    }

    expect(await released, 'the slow call must still be running until released').toBe(1);
    const result = await slow;
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe(`waited ${SLOW_MS}`);
    await stopping;
    expect(stack.exited()).toEqual([]);
    expect(stack.logs().some((l) => l.includes('"vmcp-executor stopped"'))).toBe(true);
    expect(stack.logs().some((l) => l.includes('still in flight'))).toBe(false);

    const entry = await waitFor(async () => {
      const r = await tenant.get<{ tool_call_logs: Entry[] }>('/api/v1/tool_call_logs?page_size=200&tool_name=slow');
      const found = r.body.tool_call_logs?.[0];
      return found && found.status !== 'STARTED' ? found : undefined;
    }, { what: "the slow call's audit entry" });
    expect(entry).toMatchObject({ status: 'SUCCESS', error_code: null });

    // The replica alone serves from now on.
    expect(textOf(await agent.callTool({ name: 'echo', arguments: { text: 'after' } }))).toBe('after');
    await replica.stop();
  });
});
