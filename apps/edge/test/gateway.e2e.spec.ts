import { request } from 'node:http';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  api,
  parsePrometheusText,
  startNatsServer,
  startStack,
  startUpstreamMcpServer,
  waitFor,
  type ApiClient,
  type NatsServerHandle,
  type Stack,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError, connectAgent, connectStatus, textOf } from './mcp-client.js';

// The whole gateway as users run it: five processes on a private NATS, a real upstream
// MCP server built with the SDK, and the official SDK client as the agent.

const ALICE_SECRET = 'alice-upstream-secret-4f9a1c';
const BOB_SECRET = 'bob-upstream-secret-77e0d2';
const CAROL_SECRET = 'carol-upstream-secret-c81b3e';

describe('vmcp gateway end to end', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let admin: ApiClient;
  let tenantA: ApiClient;
  let tenantB: ApiClient;
  const replies: unknown[] = [];
  let supportUrl: string;
  let everythingUrl: string;
  let supportId: string;
  let otherTenantUrl: string;
  let otherTenantToken: string;
  const clients: Client[] = [];

  const record = <T extends { body: unknown }>(r: T): T => {
    replies.push(r.body);
    return r;
  };
  const mint = async (configId: string, identifier: string, expiry_seconds?: number) => {
    const r = record(await tenantA.post(`/api/v1/mcp/configs/${configId}/tokens`, { identifier, expiry_seconds }));
    expect(r.status).toBe(201);
    return r.body as { token: string; token_id: string; mcp_server_url: string };
  };
  const agent = async (url: string, token: string) => {
    const c = await connectAgent(url, token);
    clients.push(c);
    return c;
  };
  const addAccount = async (identifier: string, token: string) => {
    const r = record(
      await tenantA.post('/api/v1/connected_accounts', {
        connection_name: 'upstream',
        identifier,
        authorization_details: { static_auth: { token } },
      }),
    );
    expect(r.status).toBe(201);
    return (r.body as { connected_account: { id: string; status: string } }).connected_account;
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    stack = await startStack({
      natsUrl: nats.url,
      database: 'sqlite',
      env: { VMCP_ALLOWED_HOSTS: 'vmcp-edge.internal', VMCP_ALLOWED_ORIGINS: 'https://console.example.com' },
    });
    admin = api(stack.baseUrl, stack.adminKey);

    const a = record(await admin.post('/api/v1/tenants', { name: 'acme' }));
    expect(a.status).toBe(201);
    tenantA = api(stack.baseUrl, (a.body as { api_key: string }).api_key);
    const b = record(await admin.post('/api/v1/tenants', { name: 'globex' }));
    tenantB = api(stack.baseUrl, (b.body as { api_key: string }).api_key);

    for (const t of [tenantA, tenantB]) {
      const c = record(
        await t.post('/api/v1/connections', {
          name: 'upstream',
          connector: 'mcp',
          auth_type: 'bearer_token',
          settings: { url: upstream.url },
        }),
      );
      expect(c.status).toBe(201);
    }
    await addAccount('alice', ALICE_SECRET);
    await addAccount('bob', BOB_SECRET);

    const support = record(
      await tenantA.post('/api/v1/mcp/configs', {
        name: 'support',
        connection_tool_mappings: [{ connection_name: 'upstream', tools: ['echo', 'whoami', 'add', 'fail'] }],
      }),
    );
    expect(support.status).toBe(201);
    supportId = (support.body as { config: { id: string; mcp_server_url: string } }).config.id;
    supportUrl = (support.body as { config: { mcp_server_url: string } }).config.mcp_server_url;
    const everything = record(
      await tenantA.post('/api/v1/mcp/configs', {
        name: 'everything',
        connection_tool_mappings: [{ connection_name: 'upstream', tools: ['*'], prefix: 'up_' }],
      }),
    );
    everythingUrl = (everything.body as { config: { mcp_server_url: string } }).config.mcp_server_url;

    await tenantB.post('/api/v1/connected_accounts', {
      connection_name: 'upstream',
      identifier: 'alice',
      authorization_details: { static_auth: { token: 'globex-alice-token' } },
    });
    const bConfig = await tenantB.post('/api/v1/mcp/configs', {
      name: 'support',
      connection_tool_mappings: [{ connection_name: 'upstream', tools: ['echo'] }],
    });
    const bId = (bConfig.body as { config: { id: string; mcp_server_url: string } }).config;
    otherTenantUrl = bId.mcp_server_url;
    otherTenantToken = ((await tenantB.post(`/api/v1/mcp/configs/${bId.id}/tokens`, { identifier: 'alice' })).body as { token: string }).token;
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('lists exactly the mapped tools, per config', async () => {
    const alice = await mint(supportId, 'alice');
    const client = await agent(alice.mcp_server_url, alice.token);
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(['add', 'echo', 'fail', 'whoami']);

    const add = (await client.listTools()).tools.find((t) => t.name === 'add')!;
    expect(add.inputSchema).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } });

    const everything = await mint(everythingUrl.split('/').pop()!, 'alice');
    const all = await agent(everything.mcp_server_url, everything.token);
    const allNames = (await all.listTools()).tools.map((t) => t.name);
    expect(allNames).toEqual(expect.arrayContaining(['up_echo', 'up_whoami', 'up_add', 'up_image', 'up_fail', 'up_slow']));
    expect(allNames.every((n) => n.startsWith('up_'))).toBe(true);
  });

  it("calls the upstream with each user's own credential, never the session token", async () => {
    const alice = await mint(supportId, 'alice');
    const bob = await mint(supportId, 'bob');
    const aliceClient = await agent(supportUrl, alice.token);
    const bobClient = await agent(supportUrl, bob.token);
    const [aliceSeen, bobSeen] = await Promise.all([
      aliceClient.callTool({ name: 'whoami', arguments: {} }),
      bobClient.callTool({ name: 'whoami', arguments: {} }),
    ]);
    expect(textOf(aliceSeen)).toContain(`Bearer ${ALICE_SECRET}`);
    expect(textOf(bobSeen)).toContain(`Bearer ${BOB_SECRET}`);
    expect(textOf(aliceSeen)).not.toContain(BOB_SECRET);
    for (const r of upstream.requests) {
      expect(JSON.stringify(r.headers)).not.toContain(alice.token);
      expect(JSON.stringify(r.headers)).not.toContain(bob.token);
    }
    const sum = await aliceClient.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
    expect(sum.structuredContent).toEqual({ sum: 5 });
    expect(sum.isError).toBeFalsy();
  });

  it('passes upstream content and isError results through unchanged', async () => {
    const alice = await mint(everythingUrl.split('/').pop()!, 'alice');
    const client = await agent(everythingUrl, alice.token);
    const image = await client.callTool({ name: 'up_image', arguments: {} });
    expect(image.content).toEqual([expect.objectContaining({ type: 'image', mimeType: 'image/png', data: expect.any(String) })]);
    const failed = await client.callTool({ name: 'up_fail', arguments: {} });
    expect(failed.isError).toBe(true);
    expect(textOf(failed).length).toBeGreaterThan(0);
  });

  it('refuses unmapped and non-existent tools alike, before the upstream', async () => {
    const alice = await mint(supportId, 'alice');
    const client = await agent(supportUrl, alice.token);
    const before = upstream.calls.length;
    const unmapped = await callError(client, 'image');
    const missing = await callError(client, 'no_such_tool');
    expect(unmapped).not.toBe('ok');
    expect(unmapped).toMatchObject({ rpc: -32602, code: 'TOOL_NOT_FOUND' });
    expect(missing).toMatchObject({ rpc: -32602, code: 'TOOL_NOT_FOUND' });
    // Same words apart from the name: no hint that "image" exists upstream.
    expect((unmapped as { message: string }).message.replace('image', 'X')).toBe(
      (missing as { message: string }).message.replace('no_such_tool', 'X'),
    );
    // A wildcard config: a tool the upstream lacks gets the same refusal.
    const all = await mint(everythingUrl.split('/').pop()!, 'alice');
    const allClient = await agent(everythingUrl, all.token);
    expect(await callError(allClient, 'up_no_such_tool')).toMatchObject({ rpc: -32602, code: 'TOOL_NOT_FOUND' });
    expect(upstream.calls.length).toBe(before);
  });

  it('refuses invalid arguments before the upstream', async () => {
    const alice = await mint(supportId, 'alice');
    const client = await agent(supportUrl, alice.token);
    const before = upstream.calls.length;
    expect(await callError(client, 'add', { a: 'two', b: 3 })).toMatchObject({ rpc: -32602, code: 'INVALID_ARGUMENT' });
    expect(await callError(client, 'add', { a: 1 })).toMatchObject({ rpc: -32602, code: 'INVALID_ARGUMENT' });
    expect(upstream.calls.length).toBe(before);
  });

  it('answers every bad session token with 401 and a WWW-Authenticate challenge', async () => {
    const good = await mint(supportId, 'alice');
    const [header, payload] = good.token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;

    const { privateKey } = await generateKeyPair('EdDSA');
    const kid = (JSON.parse(Buffer.from(header!, 'base64url').toString()) as { kid: string }).kid;
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid }).sign(privateKey);
    const none = new UnsecuredJWT(claims).encode();
    const noneWithKid = `${Buffer.from(JSON.stringify({ alg: 'none', kid })).toString('base64url')}.${payload}.`;

    const revoked = await mint(supportId, 'alice');
    expect((await tenantA.delete(`/api/v1/mcp/tokens/${revoked.token_id}`)).status).toBe(200);

    expect(await connectStatus(supportUrl)).toBe(401);
    expect(await connectStatus(supportUrl, 'not-a-jwt')).toBe(401);
    expect(await connectStatus(supportUrl, forged)).toBe(401);
    expect(await connectStatus(supportUrl, none)).toBe(401);
    expect(await connectStatus(supportUrl, noneWithKid)).toBe(401);
    expect(await connectStatus(supportUrl, revoked.token)).toBe(401);
    expect(await connectStatus(everythingUrl, good.token)).toBe(401); // another config
    expect(await connectStatus(supportUrl, otherTenantToken)).toBe(401); // another tenant
    expect(await connectStatus(otherTenantUrl, good.token)).toBe(401);
    expect(await connectStatus(supportUrl, good.token)).toBe('connected');

    const res = await fetch(supportUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp\/cfg_/);
    const meta = await fetch(res.headers.get('www-authenticate')!.match(/resource_metadata="([^"]+)"/)![1]!);
    expect(await meta.json()).toMatchObject({ resource: supportUrl, bearer_methods_supported: ['header'] });
  });

  it('refuses a foreign Host or Origin with 403 before anything else (DNS rebinding)', async () => {
    const alice = await mint(supportId, 'alice');
    const port = new URL(supportUrl).port;
    const bearer = { authorization: `Bearer ${alice.token}` };
    const busRequests = async () =>
      parsePrometheusText(await (await fetch(`${stack.healthUrl('edge')}/metrics`)).text()).sum('vmcp_nats_request_duration_seconds_count');
    const callsBefore = upstream.calls.length;
    const busBefore = await busRequests();

    // A page on evil.example.com whose name resolves to the gateway: a valid token does not help.
    for (const message of [rpc('tools/list'), rpc('tools/call', { name: 'echo', arguments: { text: 'rebound' } }), initialize()]) {
      const refused = await postAs(supportUrl, { host: `evil.example.com:${port}`, origin: `http://evil.example.com:${port}`, ...bearer }, message);
      expect(refused).toEqual({ status: 403, body: { jsonrpc: '2.0', error: { code: -32000, message: expect.stringMatching(/^Host header not allowed/) }, id: null } });
    }
    // Checked before the token: no 401 challenge for a foreign host.
    expect((await postAs(supportUrl, { host: 'evil.example.com' }, rpc('tools/list'))).status).toBe(403);
    // Our own host, but a foreign page's Origin.
    expect(await postAs(supportUrl, { host: `127.0.0.1:${port}`, origin: 'https://evil.example.com', ...bearer }, rpc('tools/list'))).toMatchObject({
      status: 403,
      body: { error: { message: expect.stringMatching(/^Origin header not allowed/) } },
    });
    // Nothing went further: no bus request from the edge (policy, executor), no upstream call.
    expect(await busRequests()).toBe(busBefore);
    expect(upstream.calls.length).toBe(callsBefore);

    // What the operator allowed is served: VMCP_PUBLIC_URL's host and origin, VMCP_ALLOWED_HOSTS, VMCP_ALLOWED_ORIGINS.
    expect((await postAs(supportUrl, { host: `127.0.0.1:${port}`, origin: stack.publicUrl, ...bearer }, initialize())).status).toBe(200);
    expect((await postAs(supportUrl, { host: `vmcp-edge.internal:${port}`, origin: 'https://console.example.com', ...bearer }, initialize())).status).toBe(200);
  });

  it('rejects an expired token', async () => {
    const expired = await stack.signSessionToken({ configId: supportId, identifier: 'alice', expiresInSeconds: -120 });
    expect(await connectStatus(supportUrl, expired)).toBe(401);
  });

  it('a revoked token stops working on a live session at once', async () => {
    const t = await mint(supportId, 'alice');
    const client = await agent(supportUrl, t.token);
    await client.callTool({ name: 'echo', arguments: { text: 'before' } });
    await tenantA.delete(`/api/v1/mcp/tokens/${t.token_id}`);
    await expect(client.callTool({ name: 'echo', arguments: { text: 'after' } })).rejects.toThrow();
  });

  it('hides the tools of connections the user has no account for, and refuses after DELETE', async () => {
    const carol = await mint(supportId, 'carol');
    const carolClient = await agent(supportUrl, carol.token);
    expect((await carolClient.listTools()).tools).toEqual([]);
    expect(await callError(carolClient, 'echo', { text: 'x' })).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE' });

    const account = await addAccount('carol', CAROL_SECRET);
    expect(account.status).toBe('ACTIVE');
    expect((await carolClient.listTools()).tools.map((t) => t.name).sort()).toEqual(['add', 'echo', 'fail', 'whoami']);
    expect(textOf(await carolClient.callTool({ name: 'whoami', arguments: {} }))).toContain(CAROL_SECRET);

    const del = record(await tenantA.delete(`/api/v1/connected_accounts/${account.id}`));
    expect(del.status).toBe(200);
    expect((del.body as { connected_account: { status: string } }).connected_account.status).toBe('DISCONNECTED');
    const before = upstream.calls.length;
    expect(await callError(carolClient, 'whoami')).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE' });
    expect((await carolClient.listTools()).tools).toEqual([]);
    expect(upstream.calls.length).toBe(before);
  });

  it("stops serving a deleted config's URL at once", async () => {
    const temp = record(
      await tenantA.post('/api/v1/mcp/configs', {
        name: 'temporary',
        connection_tool_mappings: [{ connection_name: 'upstream', tools: ['echo'] }],
      }),
    );
    const cfg = (temp.body as { config: { id: string; mcp_server_url: string } }).config;
    const t = await mint(cfg.id, 'alice');
    const client = await agent(cfg.mcp_server_url, t.token);
    await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    expect((await tenantA.delete(`/api/v1/mcp/configs/${cfg.id}`)).status).toBe(200);
    expect(await connectStatus(cfg.mcp_server_url, t.token)).toBe(404);
    await expect(client.callTool({ name: 'echo', arguments: { text: 'again' } })).rejects.toThrow();
  });

  it('records one audit entry per call with the right status', async () => {
    await addAccount('dave', 'dave-upstream-secret-93kd');
    const dave = await mint(supportId, 'dave');
    const client = await agent(supportUrl, dave.token);
    await client.callTool({ name: 'echo', arguments: { text: 'audited' } });
    await client.callTool({ name: 'fail', arguments: {} });
    await callError(client, 'image');
    await callError(client, 'add', { a: 'x', b: 1 });

    const logs = await waitFor(
      async () => {
        const r = record(await tenantA.get('/api/v1/tool_call_logs?identifier=dave'));
        const entries = (r.body as { tool_call_logs: Array<Record<string, unknown>> }).tool_call_logs;
        return entries.length === 4 && entries.every((e) => e.status !== 'STARTED') ? entries : undefined;
      },
      { timeoutMs: 5000, what: "dave's four audit entries" },
    );
    const byTool = Object.fromEntries(logs.map((e) => [e.tool_name, e]));
    expect(byTool.echo).toMatchObject({ status: 'SUCCESS', source: 'mcp', connection_name: 'upstream', connector: 'mcp', identifier: 'dave', config_id: supportId });
    expect(byTool.fail).toMatchObject({ status: 'ERROR' });
    expect(byTool.image).toMatchObject({ status: 'DENIED', error_code: 'TOOL_NOT_FOUND' });
    expect(byTool.add).toMatchObject({ status: 'DENIED', error_code: 'INVALID_ARGUMENT' });
    expect(new Set(logs.map((e) => e.execution_id)).size).toBe(4);
    // Newest first.
    expect(logs.map((e) => e.tool_name)).toEqual(['add', 'image', 'fail', 'echo']);

    const one = record(await tenantA.get(`/api/v1/tool_call_logs/${byTool.echo!.execution_id as string}`));
    expect(one.status).toBe(200);
    expect((await tenantB.get(`/api/v1/tool_call_logs/${byTool.echo!.execution_id as string}`)).status).toBe(404);
  });

  it('never shows a credential in a log line, an audit entry or an API reply', async () => {
    const all = record(await tenantA.get('/api/v1/tool_call_logs?page_size=200'));
    expect((all.body as { tool_call_logs: unknown[] }).tool_call_logs.length).toBeGreaterThan(0);
    const everything = JSON.stringify(replies) + stack.logs().join('\n');
    for (const secret of [ALICE_SECRET, BOB_SECRET, CAROL_SECRET, 'dave-upstream-secret-93kd', 'globex-alice-token']) {
      expect(everything).not.toContain(secret);
    }
    // The whoami tool echoes the credential back to its own caller; that reply is the
    // agent's, and it is not in any log either.
    expect(stack.logs().length).toBeGreaterThan(10);
  });

  it('fails promptly while policy or vault is down, and recovers', async () => {
    const t = await mint(supportId, 'bob');
    const client = await agent(supportUrl, t.token);
    await client.callTool({ name: 'echo', arguments: { text: 'warm' } });

    await stack.stop('policy');
    // A decision this edge holds keeps serving (nothing it depends on can change while
    // policy is down: every change goes through policy and drops it); one it does not
    // hold needs policy, and is refused promptly.
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'held' } }))).toContain('held');
    let started = Date.now();
    const down = await callError(client, 'add', { a: 1, b: 2 });
    expect(down).toMatchObject({ code: 'UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(3000);
    await stack.start('policy');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'back' } }))).toContain('back');

    // A user whose upstream connection is not pooled yet needs the vault.
    await addAccount('erin', 'erin-upstream-secret-55aa');
    const erin = await mint(supportId, 'erin');
    const erinClient = await agent(supportUrl, erin.token);
    await stack.stop('vault');
    started = Date.now();
    expect(await callError(erinClient, 'echo', { text: 'vault down' })).toMatchObject({ code: 'UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(3000);
    await stack.start('vault');
    expect(textOf(await erinClient.callTool({ name: 'echo', arguments: { text: 'vault back' } }))).toContain('vault back');
  });
});

const rpc = (method: string, params: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id: 1, method, params });
const initialize = () => rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } });

/** A POST with the Host and Origin a browser would send (fetch does not let a caller set Host). */
function postAs(url: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => void (text += c.toString()));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // an SSE answer: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
