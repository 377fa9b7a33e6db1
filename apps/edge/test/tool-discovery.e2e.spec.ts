import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { api, startNatsServer, startStack, startUpstreamMcpServer, waitFor, type ApiClient, type NatsServerHandle, type Stack, type UpstreamMcpServer } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAgent } from './mcp-client.js';

// A mapped connection whose upstream cannot list its tools at the moment: the agent gets the
// other connections' tools, policy retries the discovery in the background and, when it
// works, connected agents are told to list again; a config with nothing else fails
// tools/list with UNAVAILABLE instead of answering an empty catalog the agent would take
// for the truth.
// The failing upstream is a real SDK server behind a switchable proxy answering 503.

const LIST_TTL_MS = 10_000;
const MIXED = [
  { connection_name: 'up', tools: ['echo'] },
  { connection_name: 'flaky', tools: ['echo'], prefix: 'f_' },
];

interface Flaky {
  readonly url: string;
  down: boolean;
  /** Requests that reached the proxy (both states). */
  hits: number;
  close(): Promise<void>;
}

async function flakyProxy(target: string): Promise<Flaky> {
  const to = new URL(target);
  const state = { down: true, hits: 0 };
  const server: Server = createServer((req, res) => {
    state.hits++;
    if (state.down) {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"down for maintenance at 10.0.0.7"}');
      return;
    }
    const forward = request({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}${to.pathname}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

interface ListError {
  code?: number;
  message: string;
  data?: { code?: string };
}

describe('tools/list while an upstream cannot list its tools', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let flaky: Flaky;
  let stack: Stack;
  let tenant: ApiClient;
  let mixedId: string;
  let onlyId: string;
  const closers: Array<{ close(): Promise<void> }> = [];

  // One user per test: policy keeps each account's discovered catalog for 30 s once it worked.
  const agent = async (configId: string, identifier: string): Promise<Client> => {
    const { token } = (await tenant.post<{ token: string }>(`/api/v1/mcp/configs/${configId}/tokens`, { identifier })).body;
    const client = await connectAgent(`${stack.baseUrl}/mcp/${configId}`, token);
    closers.push(client);
    return client;
  };
  /** A tenant with the connections `up` and `flaky` (the proxied upstream), and an account on each for every identifier. */
  const tenantWith = async (name: string, identifiers: string[]): Promise<ApiClient> => {
    const admin = api(stack.baseUrl, stack.adminKey);
    const client = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name })).body as { api_key: string }).api_key);
    for (const [connection_name, url] of [['up', upstream.url], ['flaky', flaky.url]] as const) {
      expect((await client.post('/api/v1/connections', { name: connection_name, connector: 'mcp', auth_type: 'bearer_token', settings: { url } })).status).toBe(201);
      for (const identifier of identifiers) {
        const account = await client.post('/api/v1/connected_accounts', { connection_name, identifier, authorization_details: { static_auth: { token: `${identifier}-${connection_name}` } } });
        expect(account.status).toBe(201);
      }
    }
    return client;
  };
  const names = async (client: { listTools(): Promise<{ tools: Array<{ name: string }> }> }) => (await client.listTools()).tools.map((t) => t.name).sort();

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    flaky = await flakyProxy(upstream.url);
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite', env: { VMCP_TOOLS_LIST_TTL_MS: String(LIST_TTL_MS) } });
    tenant = await tenantWith('discovery', ['alice', 'bob', 'carol']);
    const config = async (name: string, connection_tool_mappings: unknown[]) =>
      (await tenant.post<{ config: { id: string } }>('/api/v1/mcp/configs', { name, connection_tool_mappings })).body.config.id;
    mixedId = await config('mixed', MIXED);
    onlyId = await config('only', [{ connection_name: 'flaky', tools: ['echo', 'whoami'] }]);
  });

  afterAll(async () => {
    await Promise.allSettled(closers.map((c) => c.close()));
    await stack?.close();
    await flaky?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('lists the other connections’ tools, names the missing connection, and lists its tools again once the upstream answers', async () => {
    flaky.down = true;
    const client = await agent(mixedId, 'alice');
    expect(await names(client)).toEqual(['echo']);
    const scoped = await tenant.get<{ tools: Array<{ name: string }>; unavailable: Array<{ connection_name: string; code: string; message: string }> }>(
      `/api/v1/tools/scoped?config_id=${mixedId}&identifier=alice`,
    );
    expect(scoped.status).toBe(200);
    expect(scoped.body.tools.map((t) => t.name)).toEqual(['echo']);
    expect(scoped.body.unavailable).toEqual([{ connection_name: 'flaky', code: expect.any(String), message: expect.any(String) }]);

    // Still incomplete while it is down: for a few seconds policy answers from the failure
    // without asking the upstream again, and retries in the background.
    expect(await names(client)).toEqual(['echo']);
    const hits = flaky.hits;
    await waitFor(() => flaky.hits > hits, { timeoutMs: 5000, what: 'a background retry reaching the upstream' });

    // Back up: the next retry works, and the same session lists both.
    flaky.down = false;
    await waitFor(async () => (await names(client)).length === 2, { timeoutMs: 10_000, intervalMs: 200, what: 'f_echo listed again' });
    expect(await names(client)).toEqual(['echo', 'f_echo']);
    const fine = await tenant.get<{ unavailable: unknown[] }>(`/api/v1/tools/scoped?config_id=${mixedId}&identifier=alice`);
    expect(fine.body.unavailable).toEqual([]);
  });

  it('fails tools/list with UNAVAILABLE when no connection could list anything, saying nothing of the upstream', async () => {
    flaky.down = true;
    const client = await agent(onlyId, 'bob');
    const error = await client.listTools().then(
      () => undefined,
      (err: unknown) => err as ListError,
    );
    expect(error, 'tools/list should fail').toBeDefined();
    expect(error).toMatchObject({ code: -32603, data: { code: 'UNAVAILABLE' } });
    expect(error!.message).toContain('tool discovery failed');
    expect(error!.message).not.toMatch(/flaky|10\.0\.0\.7|maintenance|127\.0\.0\.1/);

    flaky.down = false;
    const listed = await waitFor(
      async () => {
        const r = await client.listTools().catch(() => undefined);
        return r && r.tools.map((t) => t.name).sort();
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'the tools listed once the upstream is back' },
    );
    expect(listed).toEqual(['echo', 'whoami']);
  });

  it('tells a connected session to list again when the upstream is back, with no request from it', async () => {
    // A tenant of its own: a session hears its own tenant's changes only, so no other
    // test's recovery can pass for this one.
    const other = await tenantWith('discovery-b', ['dave']);
    const configId = (await other.post<{ config: { id: string } }>('/api/v1/mcp/configs', { name: 'mixed', connection_tool_mappings: MIXED })).body.config.id;
    const touch = async () => expect((await other.put(`/api/v1/mcp/configs/${configId}`, { name: 'mixed', connection_tool_mappings: MIXED })).status).toBe(200);
    flaky.down = true;
    const { token } = (await other.post<{ token: string }>(`/api/v1/mcp/configs/${configId}/tokens`, { identifier: 'dave' })).body;
    const client = await connectAgent(`${stack.baseUrl}/mcp/${configId}`, token);
    closers.push(client);
    let heard = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void heard++);
    // The client opens its session stream on its own after initializing: touch the config
    // (unchanged) until the stream has heard once.
    await waitFor(
      async () => {
        await touch();
        return heard > 0;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'the session stream to be open' },
    );
    // Notifications on one stream keep the order of the changes: once the last touch's has
    // arrived, no earlier one is still on its way to be mistaken for what follows.
    const settled = heard;
    await touch();
    await waitFor(() => heard > settled, { timeoutMs: 10_000, what: 'the last touch heard' });
    expect(await names(client)).toEqual(['echo']);
    const before = heard;
    flaky.down = false;
    // Policy retries the failed discovery in the background (1 s, then 2, 4, …).
    await waitFor(() => heard > before, { timeoutMs: 10_000, what: 'notifications/tools/list_changed after the upstream came back' });
    expect(await names(client)).toEqual(['echo', 'f_echo']);
  });

  it('tells a 2026-07-28 client not to keep an incomplete list (ttlMs 0), and the usual TTL once it is whole', async () => {
    flaky.down = true;
    const { token } = (await tenant.post<{ token: string }>(`/api/v1/mcp/configs/${mixedId}/tokens`, { identifier: 'carol' })).body;
    const client = new ModernClient({ name: 'vmcp-2026-agent', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new ModernTransport(new URL(`${stack.baseUrl}/mcp/${mixedId}`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    closers.push(client);

    const partial = await client.listTools();
    expect(partial.tools.map((t) => t.name)).toEqual(['echo']);
    expect(partial).toMatchObject({ ttlMs: 0, cacheScope: 'private' });

    flaky.down = false;
    const whole = await waitFor(
      async () => {
        const r = await client.listTools();
        return r.tools.length === 2 ? r : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'f_echo listed again' },
    );
    expect(whole.tools.map((t) => t.name).sort()).toEqual(['echo', 'f_echo']);
    expect(whole).toMatchObject({ ttlMs: LIST_TTL_MS, cacheScope: 'private' });
  });
});
