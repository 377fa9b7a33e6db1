import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  api,
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
import { callError, connectAgent, textOf } from './mcp-client.js';

// OAuth connected accounts through the whole gateway: the tenant's API makes a link, the
// user goes through a real authorization server (oidc-provider) and back to the edge's
// callback, and the agent's calls reach an upstream that accepts only that user's live
// access token; refresh on a refused token, expiry when the provider refuses, revocation.

const CLIENT_SECRET = 'oauth-client-secret-5b8e21d0';
const APP = 'https://app.example.test/connected';

describe('OAuth connected accounts end to end', () => {
  let nats: NatsServerHandle;
  let provider: OAuthProvider;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let tenant: ApiClient;
  let configId: string;
  const clients: Client[] = [];
  const seenTokens = new Set<string>();
  /** Tokens the upstream refuses once more, as a resource server that lost its cache might. */
  const refuseOnce = new Set<string>();

  const tokenIn = (authorization: string | undefined) => authorization?.replace(/^Bearer /, '') ?? '';

  /** The user's browser: link → provider (sign in, consent) → vmcp's callback → where it sends them. */
  async function authorizeInBrowser(link: string, user: string, options: { deny?: boolean } = {}) {
    const back = await provider.authorize(link, { accountId: user, deny: options.deny ?? false });
    expect(back.location.startsWith(`${stack.publicUrl}/oauth/callback?`)).toBe(true);
    const res = await fetch(back.location, { redirect: 'manual' });
    return { callback: back.location, status: res.status, location: res.headers.get('location'), body: await res.text(), headers: res.headers };
  }

  async function connectUser(identifier: string) {
    const r = await tenant.post(`/api/v1/mcp/configs/${configId}/connected_accounts`, { identifier, include_auth_link: true, redirect_url: APP });
    expect(r.status).toBe(200);
    const [state] = (r.body as { connected_accounts: Array<{ authentication_link?: string; connected_account_id: string; connected_account_status: string }> }).connected_accounts;
    expect(state).toMatchObject({ connected_account_status: 'PENDING_AUTH', authentication_link: expect.stringContaining(`${stack.publicUrl}/oauth/authorize/`) });
    const done = await authorizeInBrowser(state!.authentication_link!, identifier);
    expect(done.status).toBe(302);
    const to = new URL(done.location!);
    expect(to.origin + to.pathname).toBe(APP);
    expect(Object.fromEntries(to.searchParams)).toEqual({ status: 'success', connected_account_id: state!.connected_account_id });
    return state!.connected_account_id;
  }

  async function agentFor(identifier: string) {
    const t = await tenant.post(`/api/v1/mcp/configs/${configId}/tokens`, { identifier });
    expect(t.status).toBe(201);
    const c = await connectAgent((t.body as { mcp_server_url: string }).mcp_server_url, (t.body as { token: string }).token);
    clients.push(c);
    return c;
  }

  /** Who the upstream saw on the last whoami: the provider's account behind the bearer token. */
  async function whoami(agent: Client) {
    const text = textOf(await agent.callTool({ name: 'whoami', arguments: {} }));
    const token = /Bearer (\S+)/.exec(text)?.[1] ?? '';
    seenTokens.add(token);
    return { token, info: await provider.verifyAccessToken(token) };
  }

  beforeAll(async () => {
    nats = await startNatsServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite', env: { VMCP_OAUTH_HTTP_TIMEOUT_MS: '3000' } });
    provider = await startOAuthProvider({
      clients: [{ clientId: 'vmcp-gateway', clientSecret: CLIENT_SECRET, redirectUris: [`${stack.publicUrl}/oauth/callback`] }],
      scopes: ['files:read'],
    });
    upstream = await startUpstreamMcpServer({
      authorize: async (authorization) => {
        const token = tokenIn(authorization);
        if (refuseOnce.delete(token)) return false;
        return (await provider.verifyAccessToken(token)).active;
      },
    });
    const admin = api(stack.baseUrl, stack.adminKey);
    tenant = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name: 'oauth-co' })).body as { api_key: string }).api_key);

    const created = await tenant.post('/api/v1/connections', {
      name: 'files',
      connector: 'mcp',
      auth_type: 'oauth2',
      settings: {
        url: upstream.url,
        oauth: {
          client_id: 'vmcp-gateway',
          client_secret: CLIENT_SECRET,
          scopes: ['files:read', 'offline_access'],
          authorize_url: provider.authorizeUrl,
          token_url: provider.tokenUrl,
          revocation_url: provider.revocationUrl,
        },
      },
    });
    expect(created.status).toBe(201);
    expect((created.body as { connection: { settings: { oauth: Record<string, unknown> } } }).connection.settings.oauth).toEqual({
      client_id: 'vmcp-gateway',
      client_secret_set: true,
      scopes: ['files:read', 'offline_access'],
      authorize_url: provider.authorizeUrl,
      token_url: provider.tokenUrl,
      revocation_url: provider.revocationUrl,
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const cfg = await tenant.post('/api/v1/mcp/configs', { name: 'files-agent', connection_tool_mappings: [{ connection_name: 'files', tools: ['whoami', 'echo'] }] });
    expect(cfg.status).toBe(201);
    configId = (cfg.body as { config: { id: string } }).config.id;
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await stack?.close();
    await upstream?.close();
    await provider?.close();
    await nats?.stop();
  });

  it('connects a user through the authorization link and calls tools under their own access token', async () => {
    const alice = await connectUser('alice');
    const bob = await connectUser('bob');
    expect((await tenant.get(`/api/v1/connected_accounts/${alice}`)).body).toMatchObject({ connected_account: { status: 'ACTIVE', auth_type: 'oauth2' } });

    const agentA = await agentFor('alice');
    expect((await agentA.listTools()).tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
    expect((await whoami(agentA)).info).toMatchObject({ active: true, accountId: 'alice', clientId: 'vmcp-gateway' });
    expect((await whoami(await agentFor('bob'))).info).toMatchObject({ active: true, accountId: 'bob' });
    expect(bob).not.toBe(alice);

    // A user who has not authorized sees nothing of the connection.
    const carol = await agentFor('carol');
    expect((await carol.listTools()).tools).toEqual([]);
    expect(await callError(carol, 'whoami')).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE' });
  });

  it('refreshes once when the upstream refuses the access token, and the call goes through', async () => {
    const agent = await agentFor('alice');
    const before = await whoami(agent);
    const refreshes = provider.counts().refreshToken;
    refuseOnce.add(before.token);
    const after = await whoami(agent);
    expect(after.token).not.toBe(before.token);
    expect(after.info).toMatchObject({ active: true, accountId: 'alice' });
    expect(provider.counts().refreshToken - refreshes).toBe(1);
  });

  it('marks the account EXPIRED when the provider refuses the refresh, and says the user must authorize again', async () => {
    const dave = await connectUser('dave');
    const agent = await agentFor('dave');
    await whoami(agent);
    await provider.revokeGrants('dave');
    const failure = await callError(agent, 'whoami');
    expect(failure).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE', message: expect.stringMatching(/must authorize again/) });
    expect(JSON.stringify(failure)).not.toMatch(/invalid_grant/);
    await waitFor(async () => ((await tenant.get(`/api/v1/connected_accounts/${dave}`)).body as { connected_account: { status: string } }).connected_account.status === 'EXPIRED', {
      what: 'account EXPIRED',
    });
    expect((await agent.listTools()).tools).toEqual([]);
    const logs = await waitFor(async () => {
      const r = (await tenant.get('/api/v1/tool_call_logs?identifier=dave')).body as { tool_call_logs: Array<{ status: string; error_code: string | null }> };
      // Until the "finished" record is stored the failed call's entry still says STARTED.
      return r.tool_call_logs.some((l) => l.status !== 'SUCCESS' && l.status !== 'STARTED') ? r.tool_call_logs : undefined;
    });
    expect(logs[0]).toMatchObject({ status: 'ERROR', error_code: 'ACCOUNT_NOT_ACTIVE' });

    // The config's account view offers a fresh link; authorizing again brings the tools back.
    const view = await tenant.post(`/api/v1/mcp/configs/${configId}/connected_accounts`, { identifier: 'dave', include_auth_link: true });
    const [state] = (view.body as { connected_accounts: Array<{ connected_account_status: string; authentication_link: string }> }).connected_accounts;
    expect(state).toMatchObject({ connected_account_status: 'EXPIRED', authentication_link: expect.any(String) });
    expect((await authorizeInBrowser(state!.authentication_link, 'dave')).body).toContain('connected');
    expect((await whoami(await agentFor('dave'))).info).toMatchObject({ active: true, accountId: 'dave' });
  });

  it('revokes the grant at the provider on disconnect; the next call is refused', async () => {
    const erin = await connectUser('erin');
    const agent = await agentFor('erin');
    const { token } = await whoami(agent);
    const revocations = provider.counts().revocation;
    const r = await tenant.delete(`/api/v1/connected_accounts/${erin}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ connected_account: { status: 'DISCONNECTED' } });
    expect(provider.counts().revocation - revocations).toBe(1);
    expect(await provider.verifyAccessToken(token)).toMatchObject({ active: false });
    expect(await callError(agent, 'whoami')).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE' });
  });

  it('refuses bad links and callbacks with a clear page, and stores nothing', async () => {
    const link = (await tenant.post('/api/v1/connected_accounts/authorization_link', { connection_name: 'files', identifier: 'frank' })).body as { link: string };
    const state = link.link.split('/oauth/authorize/')[1]!;
    const get = async (path: string) => {
      const res = await fetch(`${stack.publicUrl}${path}`, { redirect: 'manual' });
      return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '', cache: res.headers.get('cache-control') };
    };
    expect(await get(`/oauth/authorize/${state.slice(0, -3)}abc`)).toMatchObject({ status: 400, body: expect.stringMatching(/not valid/), cache: 'no-store' });
    expect(await get('/oauth/authorize/%3Cscript%3E')).toMatchObject({ status: 400 });
    expect((await get('/oauth/authorize/%3Cscript%3E')).body).not.toContain('<script>');
    expect(await get('/oauth/callback')).toMatchObject({ status: 400, type: expect.stringContaining('text/html') });
    expect(await get(`/oauth/callback?state=${state}x&code=abc`)).toMatchObject({ status: 400 });

    // The provider's refusal goes back to the tenant's app (or a page), and the account stays unauthorized.
    const denied = await authorizeInBrowser(link.link, 'frank', { deny: true });
    expect(denied).toMatchObject({ status: 400, body: expect.stringMatching(/access_denied/) });
    // Replaying the callback finds the state spent.
    const replay = await fetch(denied.callback, { redirect: 'manual' });
    expect(replay.status).toBe(400);
    expect(await replay.text()).toMatch(/already been used/);
    const accounts = (await tenant.get('/api/v1/connected_accounts?identifier=frank')).body as { connected_accounts: Array<{ status: string }> };
    expect(accounts.connected_accounts.map((a) => a.status)).toEqual(['PENDING_AUTH']);

    // API input: a non-OAuth connection, a bad redirect URL, a connection without its endpoints.
    await tenant.post('/api/v1/connections', { name: 'plain', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } });
    expect(await tenant.post('/api/v1/connected_accounts/authorization_link', { connection_name: 'plain', identifier: 'x' })).toMatchObject({
      status: 412,
      body: { error: { code: 'FAILED_PRECONDITION' } },
    });
    expect(await tenant.post('/api/v1/connected_accounts/authorization_link', { connection_name: 'files', identifier: 'x', redirect_url: 'javascript:alert(1)' })).toMatchObject({
      status: 400,
    });
    expect(await tenant.post('/api/v1/connected_accounts', { connection_name: 'files', identifier: 'x', authorization_details: { static_auth: { token: 't' } } })).toMatchObject({
      status: 412,
      body: { error: { message: expect.stringMatching(/authorization link/) } },
    });
    const noEndpoints = await tenant.post('/api/v1/connections', { name: 'half', connector: 'mcp', auth_type: 'oauth2', settings: { url: upstream.url, oauth: { client_id: 'c', client_secret: 's' } } });
    expect(noEndpoints).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/authorize_url and token_url/) } } });
  });

  it('never lets a token or the client secret reach a log line or an API reply', async () => {
    expect(seenTokens.size).toBeGreaterThan(3);
    const logs = stack.logs().join('\n');
    const replies = JSON.stringify([(await tenant.get('/api/v1/connections/files')).body, (await tenant.get('/api/v1/tool_call_logs')).body]);
    for (const secret of [CLIENT_SECRET, ...seenTokens]) {
      expect(logs).not.toContain(secret);
      expect(replies).not.toContain(secret);
    }
    expect(stack.exited()).toEqual([]);
  });
});
