import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { INestMicroservice } from '@nestjs/common';
import { loadConfig } from '@vmcp/config';
import { executor, newId, ping, policy, vault, type CallToolResult, type ConnectionTarget, type StaticAuth } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import { createBusServiceApp, type Core } from '@vmcp/runtime';
import { createLogger, startTelemetry } from '@vmcp/telemetry';
import {
  freePort,
  NATS_PERMISSIONS_FILE,
  natsUsers,
  startNatsServer,
  startUpstreamMcpServer,
  waitFor,
  type NatsServerHandle,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecutorModule } from '../src/executor.module.js';

// The executor as in production (its module, its Nest NATS transport and queue group, its
// own NATS user under the project's permission file) on a private nats-server, with a stub
// vault answering vmcp.vault.v1.credentials.resolve and a real SDK upstream.

const BUS_TIMEOUT_MS = 1000;

describe('executor over the bus', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let app: INestMicroservice;
  const buses: Bus[] = [];
  let asPolicy: Bus;
  let asVaultEvents: Bus;
  let asEdge: Bus;
  const creds = lettersFirst();
  const tenant = newId('ten');

  // The stub vault: credentials by account, and every resolve it was asked for.
  const vaultStore = new Map<string, { auth_type: 'bearer_token' | 'api_key'; secret: StaticAuth }>();
  const vaultAsked: Array<{ tenant_id: string; account_id: string }> = [];
  const silentAccount = newId('ca');

  const connect = async (service: string) => {
    const u = creds.users[service]!;
    const bus = await Bus.connect({ url: nats.url, name: `test-${service}`, user: u.user, password: u.password, inboxPrefix: u.inboxPrefix, timeoutMs: 5000 });
    buses.push(bus);
    return bus;
  };

  const connection = (over: Partial<ConnectionTarget> = {}): ConnectionTarget => ({
    id: newId('conn'),
    name: 'crm',
    connector: 'mcp',
    auth_type: 'bearer_token',
    settings: { url: upstream.url },
    ...over,
  });
  // The executor treats grants as opaque: the vault checks them (see the vault's tests).
  const grantFor = (accountId: string) => `grant-for-${accountId}-from-policy`;
  const account = (token: string) => {
    const id = newId('ca');
    vaultStore.set(id, { auth_type: 'bearer_token', secret: { token } });
    return id;
  };
  const call = (target: ConnectionTarget, account_id: string, tool_name: string, args: Record<string, unknown> = {}, timeout_ms = 5000) =>
    asEdge
      .request(executor.callTool, { tenant_id: tenant, execution_id: newId('exe'), connection: target, account_id, grant: grantFor(account_id), tool_name, arguments: args, timeout_ms }, { timeoutMs: timeout_ms + 10_000 })
      .then((r) => r.result);
  const text = (r: CallToolResult) => r.content.map((c) => String(c.text ?? '')).join('\n');

  beforeAll(async () => {
    nats = await startNatsServer({ configFile: NATS_PERMISSIONS_FILE, env: creds.serverEnv });
    upstream = await startUpstreamMcpServer();

    const asVault = await connect('vault');
    asVaultEvents = asVault;
    asVault.connection.subscribe(vault.resolveCredential.subject, {
      queue: 'vault',
      callback: (err, msg) => {
        if (err) return;
        const req = vault.resolveCredential.request.parse(msg.json());
        vaultAsked.push(req);
        // The executor passes policy's grant on, unchanged, for the account it names.
        if (req.grant !== grantFor(req.account_id)) {
          msg.respond(JSON.stringify({ error: { code: 'FORBIDDEN', message: 'wrong grant' } }));
          return;
        }
        if (req.account_id === silentAccount) return;
        const stored = vaultStore.get(req.account_id);
        msg.respond(JSON.stringify(stored ?? { error: { code: 'NOT_FOUND', message: 'no credential for this connected account' } }));
      },
    });

    const u = creds.users.executor!;
    const config = loadConfig('executor', {
      NODE_ENV: 'test',
      NATS_URL: nats.url,
      NATS_USER: u.user,
      NATS_PASSWORD: u.password,
      VMCP_BUS_TIMEOUT_MS: String(BUS_TIMEOUT_MS),
    });
    const bus = await Bus.connect({ url: nats.url, name: 'vmcp-executor', user: u.user, password: u.password, inboxPrefix: u.inboxPrefix, timeoutMs: config.busTimeoutMs });
    buses.push(bus);
    const core: Core = { config, bus, telemetry: startTelemetry(config), logger: createLogger('executor', 'silent') };
    app = await createBusServiceApp(core, { service: 'executor', module: (c) => ExecutorModule.forRoot(c) });

    asPolicy = await connect('policy');
    asEdge = await connect('edge');
  });

  afterAll(async () => {
    await app?.close().catch(() => undefined);
    await Promise.allSettled(buses.map((b) => b.close()));
    await upstream?.close();
    await nats?.stop();
  });

  it('answers its ping', async () => {
    await expect(asEdge.request(ping.executor, {})).resolves.toMatchObject({ service: 'executor', ready: true });
  });

  it('lists the upstream tools of an account, with the credential resolved from the vault once', async () => {
    const target = connection();
    const alice = account('list-alice-token');
    const { tools } = await asPolicy.request(executor.listConnectionTools, { tenant_id: tenant, connection: target, account_id: alice, grant: grantFor(alice) });
    expect(tools.map((t) => t.name).sort()).toEqual(['add', 'ask', 'echo', 'fail', 'image', 'log', 'progress', 'rich', 'slow', 'whoami']);
    expect(tools.find((t) => t.name === 'add')).toMatchObject({ inputSchema: { type: 'object', required: ['a', 'b'] }, outputSchema: { type: 'object' } });
    await asPolicy.request(executor.listConnectionTools, { tenant_id: tenant, connection: target, account_id: alice, grant: grantFor(alice) });
    expect(vaultAsked.filter((a) => a.account_id === alice)).toEqual([{ tenant_id: tenant, account_id: alice, grant: grantFor(alice) }]);
  });

  it('runs each account under its own credential, on one upstream session per account, results unchanged', async () => {
    const target = connection();
    const alice = account('alice-bus-token');
    const bob = account('bob-bus-token');
    const opened = upstream.initializeCount();

    const [a, b] = await Promise.all([call(target, alice, 'whoami'), call(target, bob, 'whoami')]);
    expect(text(a)).toContain('authorization: Bearer alice-bus-token');
    expect(text(a)).not.toContain('bob');
    expect(text(b)).toContain('authorization: Bearer bob-bus-token');

    expect(await call(target, alice, 'add', { a: 2, b: 3 })).toEqual({ content: [{ type: 'text', text: '5' }], structuredContent: { sum: 5 } });
    expect(await call(target, bob, 'echo', { text: 'héllo' })).toEqual({ content: [{ type: 'text', text: 'héllo' }] });
    expect((await call(target, alice, 'image')).content).toEqual([{ type: 'image', data: expect.stringMatching(/^iVBOR/), mimeType: 'image/png' }]);
    expect(await call(target, bob, 'fail')).toEqual({ content: [{ type: 'text', text: 'upstream says no' }], isError: true });
    // The SDK server answers an unknown tool with an error result; it reaches the caller as such.
    expect(await call(target, alice, 'no_such_tool')).toMatchObject({ isError: true, content: [{ type: 'text', text: expect.stringContaining('no_such_tool') }] });

    expect(upstream.initializeCount() - opened).toBe(2);
    expect(vaultAsked.filter((x) => x.account_id === alice || x.account_id === bob)).toHaveLength(2);
    const seen = upstream.calls.filter((c) => c.tool === 'add' || c.tool === 'echo');
    expect(seen.at(-2)?.headers.authorization).toBe('Bearer alice-bus-token');
    expect(seen.at(-1)?.headers.authorization).toBe('Bearer bob-bus-token');
  });

  it('drops the upstream session at once when the account or the connection changes', async () => {
    const target = connection();
    const alice = account('alice-before');
    expect(text(await call(target, alice, 'whoami'))).toContain('Bearer alice-before');

    vaultStore.set(alice, { auth_type: 'bearer_token', secret: { token: 'alice-after-refresh' } });
    asPolicy.publish(policy.accountChanged, { tenant_id: tenant, account_id: alice, status: 'ACTIVE' });
    await waitFor(async () => text(await call(target, alice, 'whoami')).includes('Bearer alice-after-refresh'), { what: 'the refreshed credential upstream' });

    vaultStore.set(alice, { auth_type: 'bearer_token', secret: { token: 'alice-after-edit' } });
    asPolicy.publish(policy.connectionChanged, { tenant_id: tenant, connection_id: target.id });
    await waitFor(async () => text(await call(target, alice, 'whoami')).includes('Bearer alice-after-edit'), { what: 'a new session after the connection changed' });

    // The vault refreshed the token, then rotated the tenant's data key: each time the
    // session holding the old plaintext goes.
    vaultStore.set(alice, { auth_type: 'bearer_token', secret: { token: 'alice-vault-refreshed' } });
    asVaultEvents.publish(vault.credentialChanged, { tenant_id: tenant, account_id: alice, reason: 'refreshed' });
    await waitFor(async () => text(await call(target, alice, 'whoami')).includes('Bearer alice-vault-refreshed'), { what: 'a new session after a refresh' });
    vaultStore.set(alice, { auth_type: 'bearer_token', secret: { token: 'alice-after-rotation' } });
    asVaultEvents.publish(vault.credentialChanged, { tenant_id: tenant, account_id: null, reason: 'rotated' });
    await waitFor(async () => text(await call(target, alice, 'whoami')).includes('Bearer alice-after-rotation'), { what: 'a new session after a rotation' });

    vaultStore.delete(alice);
    asPolicy.publish(policy.accountChanged, { tenant_id: tenant, account_id: alice, status: 'DISCONNECTED' });
    await waitFor(() => call(target, alice, 'whoami').then(() => false, (e: { code?: string }) => e.code === 'NOT_FOUND'), {
      what: 'a disconnected account to stop working',
    });
  });

  it('stops a slow call at its timeout with DEADLINE_EXCEEDED from the executor, not a bus timeout', async () => {
    const started = Date.now();
    const err = await call(connection(), account('slow-token'), 'slow', { ms: 10_000 }, 300).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'DEADLINE_EXCEEDED', message: 'upstream of connection "crm" did not answer in time' });
    // Stopped at its deadline, long before the upstream's 10 s (the bound leaves a loaded CI machine room).
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('reports an unreachable upstream promptly as UNAVAILABLE, without its address', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await call(connection({ settings: { url: `http://127.0.0.1:${port}/mcp` } }), account('down-token'), 'echo', { text: 'x' }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', message: 'upstream of connection "crm" is unavailable' });
    // Refused connection: no wait for the call's 5 s deadline.
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('passes the vault\'s error codes on, and fails promptly when the vault is silent', async () => {
    await expect(call(connection(), newId('ca'), 'echo', { text: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'no credential for this connected account' });
    const started = Date.now();
    await expect(call(connection(), silentAccount, 'echo', { text: 'x' })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED', message: expect.stringContaining('vault') });
    // At the executor's bus timeout (1 s), not the call's 5 s deadline.
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('takes nothing beyond the contract: a request carrying a session token is refused', async () => {
    const body = {
      tenant_id: tenant,
      execution_id: newId('exe'),
      connection: connection(),
      account_id: account('t'),
      grant: 'grant-for-the-account-from-policy',
      tool_name: 'whoami',
      arguments: {},
      timeout_ms: 1000,
      session_token: 'eyJ.agent.token',
    };
    const reply = await asEdge.connection.request(executor.callTool.subject, JSON.stringify(body), { timeout: 2000 });
    expect(reply.json()).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  });

  it('announces on the bus when an upstream says its tool list changed', async () => {
    const growing = await startGrowingUpstream();
    try {
      const target = connection({ auth_type: 'none', settings: { url: growing.url } });
      const changes: unknown[] = [];
      const sub = asPolicy.subscribe(executor.toolsChanged, (e) => changes.push(e));
      await asPolicy.connection.flush();
      const before = await asPolicy.request(executor.listConnectionTools, { tenant_id: tenant, connection: target, account_id: null, grant: null });
      expect(before.tools.map((t) => t.name)).toEqual(['grow']);
      const alice = newId('ca');
      await call(target, alice, 'grow');
      await waitFor(() => changes.length > 0, { what: 'a toolsChanged event' });
      expect(changes).toEqual([{ tenant_id: tenant, connection_id: target.id, account_id: alice }]);
      sub.unsubscribe();
    } finally {
      await growing.close();
    }
  });

  // Last: it stops the executor.
  it('ends its upstream sessions when it shuts down', async () => {
    const target = connection();
    await call(target, account('shutdown-token'), 'echo', { text: 'x' });
    const sessionId = upstream.requests.at(-1)?.sessionId;
    expect(sessionId).toBeTruthy();
    await app.close();
    expect(upstream.requests.filter((r) => r.method === 'DELETE' && r.sessionId === sessionId)).toHaveLength(1);
  });
});

/**
 * natsUsers() with every password starting with a letter: nats-server reads a variable
 * that starts with a digit as a number and refuses to start (a flake of the helper,
 * reported; worked around here rather than changed under the other services' tests).
 */
function lettersFirst(): ReturnType<typeof natsUsers> {
  for (;;) {
    const creds = natsUsers();
    if (Object.values(creds.users).every((u) => /^[A-Za-z]/.test(u.password))) return creds;
  }
}

/** A stateless SDK upstream whose `grow` tool adds a tool and says so on the call's own stream. */
async function startGrowingUpstream(): Promise<{ url: string; close: () => Promise<void> }> {
  let grown = false;
  const http: Server = createServer((req, res) => {
    const server = new McpServer({ name: 'growing', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
    server.registerTool('grow', { description: 'Adds a tool' }, async (extra) => {
      grown = true;
      await extra.sendNotification({ method: 'notifications/tools/list_changed' });
      return { content: [{ type: 'text', text: 'grown' }] };
    });
    if (grown) server.registerTool('grown', { description: 'Added at run time' }, async () => ({ content: [] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close());
    void server.connect(transport).then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
