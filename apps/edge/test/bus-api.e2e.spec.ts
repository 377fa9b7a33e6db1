import { jetstreamManager } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { busApi, newId, policy, vault } from '@vmcp/contracts';
import {
  api,
  NATS_PERMISSIONS_FILE,
  natsUsers,
  parsePrometheusText,
  permissionRefusal,
  permissionViolationOf,
  startNatsServer,
  startOAuthProvider,
  startStack,
  startUpstreamMcpServer,
  waitFor,
  type ApiClient,
  type NatsServerHandle,
  type OAuthProvider,
  type Stack,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAgent, connectStatus } from './mcp-client.js';

// Issue 9: a tenant's own backend services use vmcp over NATS instead of HTTP (docs/bus-api.md).
// They connect as the permission file's `internal` user, send requests on vmcp.api.v1.* with
// the tenant API key in a header, and get the REST API's reply bodies. The tests compare each
// operation with its REST twin, show that every bad request gets a typed error reply (never a
// timeout), and that NATS itself keeps the internal user away from everything else.

const ALICE_SECRET = 'alice-upstream-secret-9c2d';

type Json = Record<string, unknown>;
interface ErrorBody {
  error: { code: string; message: string };
}



describe('the public bus API (vmcp.api.v1.*)', () => {
  const creds = natsUsers();
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let provider: OAuthProvider;
  let stack: Stack;
  let admin: ApiClient;
  let acme: ApiClient;
  let acmeKey: string;
  let acmeTenantId: string;
  let globex: ApiClient;
  let configId: string;
  let globexConfigId: string;
  let globexAccountId: string;
  /** The tenant's backend: the internal user, with its own inbox prefix. */
  let backend: NatsConnection;
  const extraConnections: NatsConnection[] = [];

  const connectInternal = async (name: string) => {
    const u = creds.users.internal!;
    const nc = await connect({ servers: nats.url, name, user: u.user, pass: u.password, inboxPrefix: u.inboxPrefix });
    extraConnections.push(nc);
    return nc;
  };

  /** One bus API request; `key: null` sends no key header. */
  const bus = async <T = Json>(subject: string, payload: unknown, key: string | null = acmeKey, raw = false): Promise<T & Partial<ErrorBody>> => {
    const h = natsHeaders();
    if (key !== null) h.set(busApi.API_KEY_HEADER, key);
    const data = raw ? (payload as string | Uint8Array) : JSON.stringify(payload);
    const msg = await backend.request(subject, data, { timeout: 10_000, headers: h });
    return msg.json<T & Partial<ErrorBody>>();
  };
  const errorOf = async (subject: string, payload: unknown, key: string | null = acmeKey, raw = false) => (await bus<ErrorBody>(subject, payload, key, raw)).error;

  beforeAll(async () => {
    nats = await startNatsServer({ configFile: NATS_PERMISSIONS_FILE, env: creds.serverEnv });
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite', natsUsers: creds.users });
    provider = await startOAuthProvider({
      clients: [{ clientId: 'vmcp-gateway', clientSecret: 'oauth-client-secret-bus', redirectUris: [`${stack.publicUrl}/oauth/callback`] }],
      scopes: ['files:read'],
    });
    admin = api(stack.baseUrl, stack.adminKey);
    const acmeCreated = (await admin.post('/api/v1/tenants', { name: 'acme' })).body as { api_key: string; tenant: { id: string } };
    acmeKey = acmeCreated.api_key;
    acmeTenantId = acmeCreated.tenant.id;
    acme = api(stack.baseUrl, acmeKey);
    globex = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name: 'globex' })).body as { api_key: string }).api_key);

    for (const t of [acme, globex]) {
      expect((await t.post('/api/v1/connections', { name: 'up', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } })).status).toBe(201);
    }
    expect(
      (
        await acme.post('/api/v1/connections', {
          name: 'files',
          connector: 'mcp',
          auth_type: 'oauth2',
          settings: { url: upstream.url, oauth: { client_id: 'vmcp-gateway', client_secret: 'oauth-client-secret-bus', scopes: ['files:read'], authorize_url: provider.authorizeUrl, token_url: provider.tokenUrl } },
        })
      ).status,
    ).toBe(201);
    await acme.post('/api/v1/connected_accounts', { connection_name: 'up', identifier: 'alice', authorization_details: { static_auth: { token: ALICE_SECRET } } });
    const globexAccount = await globex.post<{ connected_account: { id: string } }>('/api/v1/connected_accounts', {
      connection_name: 'up',
      identifier: 'alice',
      authorization_details: { static_auth: { token: 'globex-alice-token' } },
    });
    globexAccountId = globexAccount.body.connected_account.id;
    const cfg = await acme.post<{ config: { id: string } }>('/api/v1/mcp/configs', {
      name: 'support',
      connection_tool_mappings: [
        { connection_name: 'up', tools: ['echo', 'whoami'] },
        { connection_name: 'files', tools: ['echo'], prefix: 'files_' },
      ],
    });
    expect(cfg.status).toBe(201);
    configId = cfg.body.config.id;
    globexConfigId = (await globex.post<{ config: { id: string } }>('/api/v1/mcp/configs', { name: 'support', connection_tool_mappings: [{ connection_name: 'up', tools: ['echo'] }] })).body
      .config.id;

    backend = await connectInternal('acme-backend');
  });

  afterAll(async () => {
    await Promise.allSettled(extraConnections.map((nc) => nc.close()));
    await stack?.close();
    await provider?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('mints a session token over NATS that an MCP agent uses, and revokes it', async () => {
    const minted = await bus<{ token: string; token_id: string; expires_at: string; mcp_server_url: string }>(busApi.mintToken.subject, {
      config_id: configId,
      identifier: 'alice',
      expiry_seconds: 600,
    });
    expect(minted).toEqual({ token: expect.any(String), token_id: expect.stringMatching(/^tok_/), expires_at: expect.any(String), mcp_server_url: `${stack.publicUrl}/mcp/${configId}` });
    expect(Date.parse(minted.expires_at) - Date.now()).toBeLessThanOrEqual(600_000);

    const agent = await connectAgent(minted.mcp_server_url, minted.token);
    // alice has no account on the OAuth connection yet: only the upstream's tools.
    expect((await agent.listTools()).tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
    await agent.close();

    expect(await bus(busApi.revokeToken.subject, { token_id: minted.token_id })).toEqual({ token_id: minted.token_id, revoked: true });
    await waitFor(async () => (await connectStatus(minted.mcp_server_url, minted.token)) === 401, { what: 'the revoked token refused' });
  });

  it('answers scoped tools and connected accounts exactly as REST does', async () => {
    const scoped = await bus(busApi.scopedTools.subject, { config_id: configId, identifier: 'alice' });
    expect(scoped).toEqual((await acme.get(`/api/v1/tools/scoped?config_id=${configId}&identifier=alice`)).body);
    expect((scoped as { tools: Array<{ name: string }> }).tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);

    const listed = await bus<{ connected_accounts: Array<{ id: string; connection_name: string }> }>(busApi.listAccounts.subject, { identifier: 'alice' });
    expect(listed).toEqual((await acme.get('/api/v1/connected_accounts?identifier=alice')).body);
    expect(listed.connected_accounts.map((a) => a.connection_name)).toEqual(['up']);
    const id = listed.connected_accounts[0]!.id;
    const one = await bus(busApi.getAccount.subject, { id });
    expect(one).toEqual((await acme.get(`/api/v1/connected_accounts/${id}`)).body);
    expect(one).toMatchObject({ connected_account: { id, status: 'ACTIVE', identifier: 'alice' } });
    // An empty payload is an empty request (every filter optional).
    expect(await bus(busApi.listAccounts.subject, '', acmeKey, true)).toEqual((await acme.get('/api/v1/connected_accounts')).body);

    const states = await bus(busApi.configAccounts.subject, { config_id: configId, identifier: 'alice' });
    expect(states).toEqual((await acme.post(`/api/v1/mcp/configs/${configId}/connected_accounts`, { identifier: 'alice' })).body);
  });

  it('makes authorization links for an OAuth connection, alone or with the config accounts', async () => {
    const link = await bus<{ link: string; expires_at: string; connected_account_id: string }>(busApi.authorizationLink.subject, {
      connection_name: 'files',
      identifier: 'bob',
      redirect_url: 'https://app.example/done',
    });
    expect(link).toEqual({ link: expect.stringMatching(new RegExp(`^${stack.publicUrl}/oauth/authorize/`)), expires_at: expect.any(String), connected_account_id: expect.stringMatching(/^ca_/) });
    // The link leads to the provider's consent page.
    const followed = await fetch(link.link, { redirect: 'manual' });
    expect(followed.status).toBe(302);
    expect(followed.headers.get('location')).toMatch(new RegExp(`^${provider.authorizeUrl}\\?`));
    expect(await bus(busApi.getAccount.subject, { id: link.connected_account_id })).toMatchObject({ connected_account: { status: 'PENDING_AUTH', identifier: 'bob', connection_name: 'files' } });

    const states = await bus<{ connected_accounts: Json[] }>(busApi.configAccounts.subject, { config_id: configId, identifier: 'bob', include_auth_link: true });
    expect(states.connected_accounts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ connection_name: 'files', connected_account_status: 'PENDING_AUTH', authentication_link: expect.stringContaining('/oauth/authorize/') }),
        expect.objectContaining({ connection_name: 'up', connected_account_status: 'NOT_CONNECTED' }),
      ]),
    );
  });

  it('runs a tool for a user like REST execute_tool, audited, and reads the audit trail', async () => {
    const call = { tool_name: 'echo', params: { text: 'over the bus' }, identifier: 'alice', config_id: configId };
    const viaBus = await bus<{ execution_id: string }>(busApi.executeTool.subject, { ...call, agent_run_id: 'bus-run-1' });
    const viaRest = await acme.post<{ execution_id: string }>('/api/v1/execute_tool', { ...call, agent_run_id: 'rest-run-1' });
    expect(viaRest.status).toBe(200);
    expect(viaBus).toEqual({ ...viaRest.body, execution_id: expect.stringMatching(/^exe_/) });
    expect(viaBus).toMatchObject({ successful: true, data: 'over the bus' });
    expect(viaBus.execution_id).not.toBe(viaRest.body.execution_id);
    // By connection too, with the user's own credential.
    const byConnection = await bus<{ data: unknown }>(busApi.executeTool.subject, { tool_name: 'whoami', identifier: 'alice', connection_name: 'up' });
    expect(JSON.stringify(byConnection.data)).toContain(`Bearer ${ALICE_SECRET}`);

    const entry = await waitFor(
      async () => {
        const r = await bus<{ tool_call_log?: { status: string } }>(busApi.getLog.subject, { execution_id: viaBus.execution_id });
        return r.tool_call_log && r.tool_call_log.status !== 'STARTED' ? r : undefined;
      },
      { what: 'the bus call audited' },
    );
    expect(entry).toEqual((await acme.get(`/api/v1/tool_call_logs/${viaBus.execution_id}`)).body);
    expect(entry.tool_call_log).toMatchObject({
      execution_id: viaBus.execution_id,
      tenant_id: acmeTenantId,
      source: 'api',
      agent_run_id: 'bus-run-1',
      status: 'SUCCESS',
      config_id: configId,
      connection_name: 'up',
      identifier: 'alice',
      tool_name: 'echo',
    });
    const listed = await bus<{ tool_call_logs: Array<{ execution_id: string }> }>(busApi.listLogs.subject, { agent_run_id: 'bus-run-1', page_size: 10 });
    expect(listed.tool_call_logs.map((l) => l.execution_id)).toEqual([viaBus.execution_id]);
    expect(listed).toEqual((await acme.get('/api/v1/tool_call_logs?agent_run_id=bus-run-1&page_size=10')).body);
  });

  it('answers a missing, wrong, revoked or admin key with the error REST gives', async () => {
    const subject = busApi.listAccounts.subject;
    expect(await errorOf(subject, {}, null)).toEqual({ code: 'UNAUTHENTICATED', message: `missing ${busApi.API_KEY_HEADER} header` });
    expect(await errorOf(subject, {}, 'has spaces in it')).toEqual({ code: 'UNAUTHENTICATED', message: `malformed ${busApi.API_KEY_HEADER} header` });
    expect(await errorOf(subject, {}, 'vmcp_sk_not_a_real_key')).toEqual({ code: 'UNAUTHENTICATED', message: 'invalid API key' });
    expect((await api(stack.baseUrl, 'vmcp_sk_not_a_real_key').get('/api/v1/connected_accounts')).body).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'invalid API key' } });

    const second = (await admin.post<{ key_id: string; api_key: string }>(`/api/v1/tenants/${acmeTenantId}/api_keys`, {})).body;
    expect(await bus(subject, { identifier: 'alice' }, second.api_key)).toMatchObject({ connected_accounts: [expect.objectContaining({ identifier: 'alice' })] });
    expect((await admin.delete(`/api/v1/tenants/${acmeTenantId}/api_keys/${second.key_id}`)).status).toBe(200);
    expect(await errorOf(subject, {}, second.api_key)).toEqual({ code: 'UNAUTHENTICATED', message: 'invalid API key' });

    const asAdmin = await errorOf(subject, {}, stack.adminKey);
    expect(asAdmin).toEqual({ code: 'FORBIDDEN', message: 'this operation needs a tenant API key' });
    expect((await admin.get('/api/v1/connected_accounts')).body).toEqual({ error: asAdmin });
  });

  it("finds none of another tenant's configs, accounts or executions, as REST", async () => {
    const globexRun = await globex.post<{ execution_id: string }>('/api/v1/execute_tool', { tool_name: 'echo', params: { text: 'x' }, identifier: 'alice', config_id: globexConfigId });
    expect(globexRun.status).toBe(200);
    const globexMinted = (await globex.post<{ token: string; token_id: string; mcp_server_url: string }>(`/api/v1/mcp/configs/${globexConfigId}/tokens`, { identifier: 'alice' })).body;
    const globexToken = globexMinted.token_id;
    const cases: Array<[string, Json, string, string, Json?]> = [
      [busApi.mintToken.subject, { config_id: globexConfigId, identifier: 'alice' }, 'post', `/api/v1/mcp/configs/${globexConfigId}/tokens`, { identifier: 'alice' }],
      [busApi.configAccounts.subject, { config_id: globexConfigId, identifier: 'alice' }, 'post', `/api/v1/mcp/configs/${globexConfigId}/connected_accounts`, { identifier: 'alice' }],
      [busApi.executeTool.subject, { tool_name: 'echo', params: { text: 'x' }, identifier: 'alice', config_id: globexConfigId }, 'post', '/api/v1/execute_tool', { tool_name: 'echo', params: { text: 'x' }, identifier: 'alice', config_id: globexConfigId }],
      [busApi.getAccount.subject, { id: globexAccountId }, 'get', `/api/v1/connected_accounts/${globexAccountId}`],
      [busApi.getLog.subject, { execution_id: globexRun.body.execution_id }, 'get', `/api/v1/tool_call_logs/${globexRun.body.execution_id}`],
      [busApi.revokeToken.subject, { token_id: globexToken }, 'delete', `/api/v1/mcp/tokens/${globexToken}`],
      [busApi.revokeToken.subject, { token_id: newId('tok') }, 'delete', `/api/v1/mcp/tokens/${newId('tok')}`],
    ];
    for (const [subject, payload, method, path, body] of cases) {
      const error = await errorOf(subject, payload);
      expect(error, subject).toMatchObject({ code: expect.stringMatching(/^(NOT_FOUND|CONFIG_NOT_FOUND)$/) });
      const rest = method === 'get' ? await acme.get(path) : method === 'delete' ? await acme.delete(path) : await acme.post(path, body);
      // The same error, ids in the message aside (the second revoke names another unknown id).
      expect(rest.body, subject).toEqual({ error: { code: error!.code, message: subject === busApi.revokeToken.subject && !path.endsWith(globexToken) ? expect.any(String) : error!.message } });
    }
    // A foreign config's scoped tools are an empty list, as for a config that does not exist.
    const foreignScope = await bus(busApi.scopedTools.subject, { config_id: globexConfigId, identifier: 'alice' });
    expect(foreignScope).toEqual({ tools: [], unavailable: [] });
    expect(foreignScope).toEqual((await acme.get(`/api/v1/tools/scoped?config_id=${globexConfigId}&identifier=alice`)).body);
    expect(await bus(busApi.scopedTools.subject, { config_id: newId('cfg'), identifier: 'alice' })).toEqual(foreignScope);
    // Acme's attempts did not revoke globex's token.
    expect(await connectStatus(globexMinted.mcp_server_url, globexMinted.token)).toBe('connected');
  });

  it('answers malformed, invalid, oversized and unknown requests with a typed error', async () => {
    expect(await errorOf(busApi.mintToken.subject, '{"config_id": ', acmeKey, true)).toEqual({ code: 'INVALID_ARGUMENT', message: 'request payload is not valid JSON' });
    const unknownField = await errorOf(busApi.mintToken.subject, { config_id: configId, identifier: 'alice', tenant_id: 'ten_other' });
    expect(unknownField).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('tenant_id') });
    const badId = await errorOf(busApi.getAccount.subject, { id: 'cfg_not_an_account' });
    expect(badId).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^id: /) });
    expect(await errorOf(busApi.scopedTools.subject, { config_id: configId })).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^identifier: /) });
    expect(await errorOf(busApi.executeTool.subject, { tool_name: 'echo', identifier: 'alice', config_id: configId, connection_name: 'up' })).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'config_id: give exactly one of config_id and connection_name',
    });
    expect(await errorOf(busApi.scopedTools.subject, [1, 2])).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^\(root\): /) });
    let deep: unknown = 'x';
    for (let i = 0; i < 40; i++) deep = { d: deep };
    expect(await errorOf(busApi.executeTool.subject, { tool_name: 'echo', params: deep, identifier: 'alice', config_id: configId })).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'JSON nested deeper than 32 levels',
    });
    expect(await errorOf(`${busApi.BUS_API_SUBJECT_PREFIX}.tenants.create`, { name: 'evil' })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await errorOf(`${busApi.BUS_API_SUBJECT_PREFIX}.tokens`, {})).toMatchObject({ code: 'NOT_FOUND' });

    // One byte over the bus API's limit: the edge refuses it with a typed error.
    const pad = (bytes: number) => {
      const skeleton = JSON.stringify({ tool_name: 'echo', params: { text: '' }, identifier: 'alice', config_id: configId });
      return skeleton.replace('"text":""', `"text":"${'a'.repeat(bytes - skeleton.length)}"`);
    };
    const atLimit = pad(busApi.BUS_API_MAX_PAYLOAD_BYTES);
    expect(Buffer.byteLength(atLimit)).toBe(busApi.BUS_API_MAX_PAYLOAD_BYTES);
    expect(await errorOf(busApi.executeTool.subject, pad(busApi.BUS_API_MAX_PAYLOAD_BYTES + 1), acmeKey, true)).toEqual({
      code: 'PAYLOAD_TOO_LARGE',
      message: `request payload is larger than ${busApi.BUS_API_MAX_PAYLOAD_BYTES} bytes`,
    });
    // At the limit it is read and runs (the echo comes back twice, as `data` and in `content`:
    // just under a NATS message; a larger reply is a RESOURCE_EXHAUSTED error, see the unit test).
    const atLimitReply = await bus<{ successful: boolean; data: string }>(busApi.executeTool.subject, atLimit, acmeKey, true);
    expect(atLimitReply.successful).toBe(true);
    expect(atLimitReply.data).toMatch(/^a+$/);
    // Past the server's max_payload (1 MB) the request never leaves the client.
    expect(backend.info?.max_payload).toBeGreaterThan(busApi.BUS_API_MAX_PAYLOAD_BYTES);
    const huge = pad(backend.info!.max_payload + 1);
    await expect(bus(busApi.executeTool.subject, huge, acmeKey, true)).rejects.toThrow(/max_payload size exceeded/);
  });

  it('drops a request without a reply subject (counted), and answers the next one', async () => {
    backend.publish(busApi.scopedTools.subject, JSON.stringify({ config_id: configId, identifier: 'alice' }));
    const dropped = await waitFor(
      async () => {
        const text = await (await fetch(`${stack.healthUrl('edge')}/metrics`)).text();
        const n = parsePrometheusText(text).sum('vmcp_nats_dropped_messages_total', { subject: busApi.scopedTools.subject, reason: 'no_reply_subject' });
        return n >= 1 ? n : undefined;
      },
      { what: 'the dropped message counted' },
    );
    expect(dropped).toBe(1);
    expect(await bus(busApi.scopedTools.subject, { config_id: configId, identifier: 'alice' })).toHaveProperty('tools');
    expect(stack.exited()).toEqual([]);
  });

  it("lets the internal user reach nothing but the bus API, and read only its own replies", async () => {
    const nc = await connectInternal('acme-backend-probe');
    // The services' own subjects: no token minting, no credential, no JetStream.
    for (const subject of [policy.mintToken.subject, vault.resolveCredential.subject, policy.authenticateApiKey.subject, '$JS.API.INFO']) {
      expect(await permissionRefusal(() => nc.request(subject, '{}', { timeout: 5000 }))).toBe(`publish ${subject}`);
    }
    expect(await permissionRefusal(() => jetstreamManager(nc, { checkAPI: false }).then((jsm) => jsm.getAccountInfo()))).toBe('publish $JS.API.INFO');
    // Not the tenant events, not another user's replies, and not the bus API's requests (with their keys).
    const subscribe = async (subject: string) => {
      const sub: Subscription = nc.subscribe(subject);
      return permissionViolationOf(await sub.closed);
    };
    for (const subject of ['vmcp.events.v1.>', '_INBOX_edge.>', '_INBOX.>', `${busApi.BUS_API_SUBJECT_PREFIX}.>`, busApi.mintToken.subject, '>']) {
      expect(await subscribe(subject)).toBe(`subscription ${subject}`);
    }
    // And still works for what it is for.
    const ok = await nc.request(busApi.scopedTools.subject, JSON.stringify({ config_id: configId, identifier: 'alice' }), {
      timeout: 5000,
      headers: (() => {
        const h = natsHeaders();
        h.set(busApi.API_KEY_HEADER, acmeKey);
        return h;
      })(),
    });
    expect(ok.json()).toHaveProperty('tools');
  });
});
