import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
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

// 2026-07-28 clients have no session and no GET stream: they learn that their tool list
// changed on a `subscriptions/listen` stream. Each stream hears its own tenant's changes
// (config, account) on whichever edge replica holds it, and nothing of another tenant's;
// a revoked token or a deleted config ends it at once.

const MODERN = '2026-07-28';
/** The DESIGN bound for a change to reach every replica. */
const PROPAGATION_MS = 1000;

interface Listener {
  readonly client: ModernClient;
  readonly notified: () => number;
  readonly closed: Promise<'local' | 'graceful' | 'remote'>;
}

describe('subscriptions/listen (2026-07-28) across replicas and tenants', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let replica: EdgeReplica;
  const clients: ModernClient[] = [];

  interface Tenant {
    readonly api: ApiClient;
    readonly configId: string;
  }
  let red: Tenant;
  let blue: Tenant;

  const makeTenant = async (name: string): Promise<Tenant> => {
    const admin = api(stack.baseUrl, stack.adminKey);
    const t = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name })).body as { api_key: string }).api_key);
    await t.post('/api/v1/connections', { name: 'up', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } });
    await t.post('/api/v1/connected_accounts', { connection_name: 'up', identifier: 'alice', authorization_details: { static_auth: { token: `${name}-secret` } } });
    const config = await t.post<{ config: { id: string } }>('/api/v1/mcp/configs', { name: 'agent', connection_tool_mappings: [{ connection_name: 'up', tools: ['echo'] }] });
    expect(config.status).toBe(201);
    return { api: t, configId: config.body.config.id };
  };
  const mint = async (t: Tenant) => (await t.api.post<{ token: string; token_id: string }>(`/api/v1/mcp/configs/${t.configId}/tokens`, { identifier: 'alice' })).body;
  const setTools = (t: Tenant, tools: string[]) =>
    t.api.put(`/api/v1/mcp/configs/${t.configId}`, { name: 'agent', connection_tool_mappings: [{ connection_name: 'up', tools }] });

  const connect = async (baseUrl: string, t: Tenant, token: string) => {
    const client = new ModernClient({ name: 'listener', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    await client.connect(new ModernTransport(new URL(`${baseUrl}/mcp/${t.configId}`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    clients.push(client);
    return client;
  };
  const listen = async (baseUrl: string, t: Tenant, token: string): Promise<Listener> => {
    const client = await connect(baseUrl, t, token);
    let notified = 0;
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      notified++;
    });
    const sub = await client.listen({ toolsListChanged: true });
    expect(sub.honoredFilter).toEqual({ toolsListChanged: true });
    return { client, notified: () => notified, closed: sub.closed };
  };
  const toolNames = async (client: ModernClient) => (await client.listTools()).tools.map((t) => t.name).sort();

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
    replica = await stack.startEdgeReplica();
    red = await makeTenant('red');
    blue = await makeTenant('blue');
  });

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('advertises tools.listChanged to 2026-07-28 clients', async () => {
    const client = await connect(stack.baseUrl, red, (await mint(red)).token);
    expect(client.getServerCapabilities()?.tools?.listChanged).toBe(true);
  });

  it("tells a tenant's streams on both replicas of a config change, and no other tenant's", async () => {
    const redToken = (await mint(red)).token;
    const onA = await listen(stack.baseUrl, red, redToken);
    const onB = await listen(replica.url, red, redToken);
    const other = await listen(stack.baseUrl, blue, (await mint(blue)).token);
    expect(await toolNames(onA.client)).toEqual(['echo']);

    expect((await setTools(red, ['echo', 'add'])).status).toBe(200);
    await waitFor(() => onA.notified() >= 1 && onB.notified() >= 1, { timeoutMs: PROPAGATION_MS, intervalMs: 20, what: 'both replicas to tell red' });
    expect(await toolNames(onA.client)).toEqual(['add', 'echo']);
    expect(await toolNames(onB.client)).toEqual(['add', 'echo']);

    // Blue's stream works, and heard nothing of red's change: its first notice is its own.
    expect(other.notified()).toBe(0);
    expect((await setTools(blue, ['echo', 'whoami'])).status).toBe(200);
    await waitFor(() => other.notified() >= 1, { timeoutMs: PROPAGATION_MS, intervalMs: 20, what: 'blue to be told' });
    expect(await toolNames(other.client)).toEqual(['echo', 'whoami']);
  });

  it("tells a user's stream when their connected account is disconnected", async () => {
    const listener = await listen(stack.baseUrl, red, (await mint(red)).token);
    const accounts = await red.api.get<{ connected_accounts: Array<{ id: string }> }>('/api/v1/connected_accounts?identifier=alice');
    const before = listener.notified();
    expect((await red.api.delete(`/api/v1/connected_accounts/${accounts.body.connected_accounts[0]!.id}`)).status).toBe(200);
    await waitFor(() => listener.notified() > before, { timeoutMs: PROPAGATION_MS, intervalMs: 20, what: 'the account change to be told' });
    expect(await toolNames(listener.client)).toEqual([]);
    // Connected again for the tests after this one.
    await red.api.post('/api/v1/connected_accounts', { connection_name: 'up', identifier: 'alice', authorization_details: { static_auth: { token: 'red-secret' } } });
  });

  it('ends the streams of a revoked token on both replicas at once', async () => {
    const minted = await mint(red);
    const onA = await listen(stack.baseUrl, red, minted.token);
    const onB = await listen(replica.url, red, minted.token);
    const bystander = await listen(stack.baseUrl, red, (await mint(red)).token);
    expect((await red.api.delete(`/api/v1/mcp/tokens/${minted.token_id}`)).status).toBe(200);
    const ended = await Promise.race([
      Promise.all([onA.closed, onB.closed]),
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), PROPAGATION_MS * 3).unref()),
    ]);
    expect(ended).not.toBe('timeout');
    // Another token's stream of the same tenant and config stays open and keeps hearing changes.
    const before = bystander.notified();
    expect((await setTools(red, ['echo'])).status).toBe(200);
    await waitFor(() => bystander.notified() > before, { timeoutMs: PROPAGATION_MS, intervalMs: 20, what: 'the bystander to be told' });
  });

  it('ends every stream of a deleted config', async () => {
    const listener = await listen(replica.url, blue, (await mint(blue)).token);
    expect((await blue.api.delete(`/api/v1/mcp/configs/${blue.configId}`)).status).toBe(200);
    const ended = await Promise.race([listener.closed, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), PROPAGATION_MS * 3).unref())]);
    expect(ended).not.toBe('timeout');
  });

  it('refuses a listen without a valid token like any other request', async () => {
    const res = await fetch(`${stack.baseUrl}/mcp/${red.configId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'subscriptions/listen' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'listen:1',
        method: 'subscriptions/listen',
        params: {
          notifications: { toolsListChanged: true },
          _meta: {
            'io.modelcontextprotocol/protocolVersion': MODERN,
            'io.modelcontextprotocol/clientCapabilities': {},
            'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
          },
        },
      }),
    });
    expect(res.status).toBe(401);
    await res.body?.cancel();
  });
});
