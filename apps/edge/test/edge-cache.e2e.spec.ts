import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import {
  api,
  parsePrometheusText,
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
import { callError, connectAgent, connectStatus, textOf } from './mcp-client.js';

// Two edge replicas cache users' tool lists and allow decisions. A change made through the
// API (config, account, token) must reach both within a second, with no stale answer.

/** The DESIGN bound: a change is seen by every replica within a second of the API's reply. */
const PROPAGATION_MS = 1000;

describe('edge caches across two replicas', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let replica: EdgeReplica;
  let tenant: ApiClient;
  let configId: string;
  const clients: Client[] = [];

  const urls = () => [stack.baseUrl, replica.url];
  const agentsFor = async (identifier: string) => {
    const minted = (await tenant.post<{ token: string; token_id: string }>(`/api/v1/mcp/configs/${configId}/tokens`, { identifier })).body;
    const agents = await Promise.all(urls().map((u) => connectAgent(`${u}/mcp/${configId}`, minted.token)));
    clients.push(...agents);
    return { agents, ...minted };
  };
  const decisionHits = async (baseUrl: string) => {
    const scrape = parsePrometheusText(await (await fetch(`${baseUrl}/metrics`)).text());
    return scrape.sum('vmcp_edge_cache_lookups_total', { kind: 'decision', result: 'hit' });
  };
  /** Waits at most PROPAGATION_MS for `check` to hold on both replicas. */
  const onBothWithinASecond = (what: string, check: (i: number) => Promise<boolean>) =>
    waitFor(async () => (await Promise.all([0, 1].map(check))).every(Boolean), { timeoutMs: PROPAGATION_MS, intervalMs: 20, what });

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
    replica = await stack.startEdgeReplica();
    const admin = api(stack.baseUrl, stack.adminKey);
    tenant = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name: 'cached' })).body as { api_key: string }).api_key);
    await tenant.post('/api/v1/connections', { name: 'up', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } });
    for (const who of ['alice', 'bob', 'carol']) {
      await tenant.post('/api/v1/connected_accounts', { connection_name: 'up', identifier: who, authorization_details: { static_auth: { token: `${who}-secret` } } });
    }
    const config = await tenant.post<{ config: { id: string } }>('/api/v1/mcp/configs', {
      name: 'cached',
      connection_tool_mappings: [{ connection_name: 'up', tools: ['echo', 'add', 'whoami'] }],
    });
    configId = config.body.config.id;
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('serves repeated calls from each replica’s cache, still checking every call’s arguments', async () => {
    const { agents } = await agentsFor('alice');
    const before = await Promise.all(urls().map(decisionHits));
    for (const agent of agents) {
      for (let i = 0; i < 3; i++) expect(textOf(await agent.callTool({ name: 'echo', arguments: { text: `hi ${i}` } }))).toBe(`hi ${i}`);
    }
    const after = await Promise.all(urls().map(decisionHits));
    expect(after[0]! - before[0]!).toBeGreaterThanOrEqual(2);
    expect(after[1]! - before[1]!).toBeGreaterThanOrEqual(2);

    // A cached allow does not let bad arguments through: refused, before the upstream, audited.
    const calls = upstream.calls.length;
    for (const agent of agents) {
      await agent.callTool({ name: 'add', arguments: { a: 1, b: 2 } });
      expect(await callError(agent, 'add', { a: 'one', b: 2 })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    expect(upstream.calls.length).toBe(calls + 2);
    const denied = await waitFor(async () => {
      const logs = (await tenant.get<{ tool_call_logs: Array<{ status: string; error_code: string }> }>('/api/v1/tool_call_logs?tool_name=add&status=DENIED')).body.tool_call_logs;
      return logs.length === 2 ? logs : undefined;
    });
    expect(denied.every((e) => e.error_code === 'INVALID_ARGUMENT')).toBe(true);
  });

  it('a config change reaches both replicas within a second: the tool is gone from lists and refused', async () => {
    const { agents } = await agentsFor('bob');
    for (const agent of agents) {
      await agent.callTool({ name: 'whoami', arguments: {} });
      expect((await agent.listTools()).tools.map((t) => t.name)).toContain('whoami');
    }
    const replaced = await tenant.put(`/api/v1/mcp/configs/${configId}`, {
      name: 'cached',
      connection_tool_mappings: [{ connection_name: 'up', tools: ['echo', 'add'] }],
    });
    expect(replaced.status).toBe(200);
    const calls = upstream.calls.length;
    // The list first: a replica that has not heard the change yet still holds its allow, and
    // a call then would reach the upstream. The same change mark drops both.
    await onBothWithinASecond('whoami refused on both replicas', async (i) => {
      const listed = (await agents[i]!.listTools()).tools.map((t) => t.name);
      if (listed.includes('whoami')) return false;
      const refused = await callError(agents[i]!, 'whoami');
      return refused !== 'ok' && refused.code === 'TOOL_NOT_FOUND';
    });
    expect(upstream.calls.filter((c, i) => i >= calls && c.tool === 'whoami')).toEqual([]);
  });

  it('a disconnected account reaches both replicas within a second', async () => {
    const { agents } = await agentsFor('carol');
    for (const agent of agents) expect(textOf(await agent.callTool({ name: 'echo', arguments: { text: 'x' } }))).toBe('x');
    const account = (await tenant.get<{ connected_accounts: Array<{ id: string }> }>('/api/v1/connected_accounts?identifier=carol')).body.connected_accounts[0]!;
    expect((await tenant.delete(`/api/v1/connected_accounts/${account.id}`)).status).toBe(200);
    await onBothWithinASecond('carol refused on both replicas', async (i) => {
      const refused = await callError(agents[i]!, 'echo', { text: 'x' });
      return refused !== 'ok' && refused.code === 'ACCOUNT_NOT_ACTIVE';
    });
  });

  it('a revoked token reaches both replicas within a second, and the replica that revoked it at once', async () => {
    const { agents, token, token_id } = await agentsFor('alice');
    for (const agent of agents) await agent.callTool({ name: 'echo', arguments: { text: 'x' } });
    expect((await tenant.delete(`/api/v1/mcp/tokens/${token_id}`)).status).toBe(200);
    // The API went through the first replica: it refuses the token before the watch tells it.
    expect(await connectStatus(`${stack.baseUrl}/mcp/${configId}`, token)).toBe(401);
    await onBothWithinASecond('token refused on both replicas', async (i) => (await connectStatus(`${urls()[i]}/mcp/${configId}`, token)) === 401);
  });

  it('a deleted config is gone at once on the replica that deleted it, and on the other within a second', async () => {
    const created = await tenant.post<{ config: { id: string } }>('/api/v1/mcp/configs', { name: 'short-lived', connection_tool_mappings: [{ connection_name: 'up', tools: ['echo'] }] });
    const id = created.body.config.id;
    const { token } = (await tenant.post<{ token: string }>(`/api/v1/mcp/configs/${id}/tokens`, { identifier: 'alice' })).body;
    for (const u of urls()) expect(await connectStatus(`${u}/mcp/${id}`, token)).toBe('connected');
    expect((await tenant.delete(`/api/v1/mcp/configs/${id}`)).status).toBe(200);
    expect(await connectStatus(`${stack.baseUrl}/mcp/${id}`, token)).toBe(404);
    await onBothWithinASecond('config gone on both replicas', async (i) => (await connectStatus(`${urls()[i]}/mcp/${id}`, token)) === 404);
  });

  it('tells the sessions connected to each replica that their tool list changed', async () => {
    await tenant.post('/api/v1/connected_accounts', { connection_name: 'up', identifier: 'dave', authorization_details: { static_auth: { token: 'dave-secret' } } });
    const { agents } = await agentsFor('dave');
    const seen = [0, 0];
    agents.forEach((a, i) => a.setNotificationHandler(ToolListChangedNotificationSchema, () => void seen[i]!++));
    const mappings = (tools: string[]) => ({ name: 'cached', connection_tool_mappings: [{ connection_name: 'up', tools }] });
    // Each client opens its stream on its own after initializing: touch the config until both have heard once.
    await waitFor(
      async () => {
        await tenant.put(`/api/v1/mcp/configs/${configId}`, mappings(['echo', 'add']));
        return seen[0]! > 0 && seen[1]! > 0;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'both session streams to be open' },
    );
    const before = [...seen];
    expect((await tenant.put(`/api/v1/mcp/configs/${configId}`, mappings(['echo']))).status).toBe(200);
    await onBothWithinASecond('list_changed on both replicas', async (i) => seen[i]! > before[i]!);
    for (const agent of agents) expect((await agent.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
  });
});
