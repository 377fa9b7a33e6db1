import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOAuthProvider, type OAuthProvider } from './oauth-provider.js';
import { waitFor } from './ports.js';
import { startUpstreamMcpServer } from './upstream-mcp-server.js';

const insecure = { [oauth.allowInsecureRequests]: true };

/** Stands in for vmcp: /link/<id> 302s to an authorize URL, /oauth/callback answers a page. */
async function startLinkServer() {
  const links = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const target = url.pathname.startsWith('/link/') ? links.get(url.pathname.slice('/link/'.length)) : undefined;
    if (target) res.writeHead(302, { location: target }).end();
    else if (url.pathname === '/oauth/callback') res.writeHead(200, { 'content-type': 'text/plain' }).end(`connected ${url.searchParams.get('state')}`);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    callback: `${base}/oauth/callback`,
    link(authorizeUrl: string) {
      const id = randomUUID();
      links.set(id, authorizeUrl);
      return `${base}/link/${id}`;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('startOAuthProvider', () => {
  let vmcp: Awaited<ReturnType<typeof startLinkServer>>;
  let provider: OAuthProvider;
  let as: oauth.AuthorizationServer;
  const basic = { client_id: 'vmcp-basic' } satisfies oauth.Client;
  const post = { client_id: 'vmcp-post' } satisfies oauth.Client;
  const authOf = (client: oauth.Client) => (client === basic ? oauth.ClientSecretBasic('basic-secret') : oauth.ClientSecretPost('post-secret'));

  beforeAll(async () => {
    vmcp = await startLinkServer();
    provider = await startOAuthProvider({
      clients: [
        { clientId: basic.client_id, clientSecret: 'basic-secret', redirectUris: [vmcp.callback] },
        { clientId: post.client_id, clientSecret: 'post-secret', redirectUris: [vmcp.callback], tokenEndpointAuthMethod: 'client_secret_post' },
      ],
      scopes: ['files:read', 'offline_access'],
    });
    as = { issuer: provider.issuer, authorization_endpoint: provider.authorizeUrl, token_endpoint: provider.tokenUrl, revocation_endpoint: provider.revocationUrl };
  });
  afterAll(async () => {
    await provider?.close();
    await vmcp?.close();
  });

  /** What vmcp does to build the link: PKCE S256 and a state, plain OAuth 2.0 scopes. */
  async function startFlow(client: oauth.Client) {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(provider.authorizeUrl);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: vmcp.callback,
      scope: 'files:read offline_access',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();
    return { link: vmcp.link(url.href), verifier, state };
  }

  async function connect(client: oauth.Client, accountId: string) {
    const { link, verifier, state } = await startFlow(client);
    const { location } = await provider.authorize(link, { accountId });
    const params = oauth.validateAuthResponse(as, client, new URL(location), state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, authOf(client), params, vmcp.callback, verifier, insecure);
    return oauth.processAuthorizationCodeResponse(as, client, response);
  }

  const refresh = async (client: oauth.Client, refreshToken: string) =>
    oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, authOf(client), refreshToken, insecure));

  it('runs code + PKCE with oauth4webapi: the redirect carries code, state and iss; tokens are issued and verify', async () => {
    const before = provider.counts();
    const { link, verifier, state } = await startFlow(basic);
    const redirect = await provider.authorize(link, { accountId: 'alice' });
    expect(redirect.status).toBeGreaterThanOrEqual(300);
    expect(redirect.location.startsWith(`${vmcp.callback}?`)).toBe(true);
    const callback = new URL(redirect.location);
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(provider.issuer);

    const params = oauth.validateAuthResponse(as, basic, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(as, basic, authOf(basic), params, vmcp.callback, verifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, basic, response);
    expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 3600, scope: 'files:read' });
    expect(tokens.refresh_token).toBeTypeOf('string');
    expect(await provider.verifyAccessToken(tokens.access_token)).toEqual({ active: true, accountId: 'alice', clientId: basic.client_id, scope: 'files:read' });
    expect(await provider.verifyAccessToken('not-a-token')).toEqual({ active: false });
    expect(provider.counts()).toEqual({ ...before, authorizationCode: before.authorizationCode + 1 });
  });

  it('rotates the refresh token on every use; replaying a used one is invalid_grant and ends the grant', async () => {
    const first = await connect(basic, 'bob');
    const before = provider.counts();
    const second = await refresh(basic, first.refresh_token!);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(await provider.verifyAccessToken(second.access_token)).toMatchObject({ active: true, accountId: 'bob' });

    await expect(refresh(basic, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // Reuse detection: oidc-provider revokes the whole grant, the newest tokens included.
    expect(await provider.verifyAccessToken(second.access_token)).toEqual({ active: false });
    await expect(refresh(basic, second.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(provider.counts()).toEqual({ ...before, refreshToken: before.refreshToken + 3 });
  });

  it('revokeGrants makes the next refresh of that account invalid_grant', async () => {
    const carol = await connect(basic, 'carol');
    const dave = await connect(basic, 'dave');
    await provider.revokeGrants('carol');
    await expect(refresh(basic, carol.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await provider.verifyAccessToken(carol.access_token)).toEqual({ active: false });
    expect((await refresh(basic, dave.refresh_token!)).access_token).toBeTypeOf('string');
  });

  it('revokes at the RFC 7009 endpoint with client_secret_post; the grant ends with it', async () => {
    const tokens = await connect(post, 'erin');
    const before = provider.counts();
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, post, authOf(post), tokens.refresh_token!, insecure));
    expect(await provider.verifyAccessToken(tokens.access_token)).toEqual({ active: false });
    await expect(refresh(post, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    const other = await connect(post, 'erin');
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, post, authOf(post), other.access_token, insecure));
    expect(await provider.verifyAccessToken(other.access_token)).toEqual({ active: false });
    expect(provider.counts()).toMatchObject({ revocation: before.revocation + 2, authorizationCode: before.authorizationCode + 1 });
  });

  it('accepts only the client authentication method each client registered', async () => {
    const { refresh_token } = await connect(basic, 'heidi');
    const viaPost = await oauth.refreshTokenGrantRequest(as, basic, oauth.ClientSecretPost('basic-secret'), refresh_token!, insecure);
    await expect(oauth.processRefreshTokenResponse(as, basic, viaPost)).rejects.toMatchObject({ error: 'invalid_client' });
    const other = await connect(post, 'heidi');
    const viaBasic = await oauth.refreshTokenGrantRequest(as, post, oauth.ClientSecretBasic('post-secret'), other.refresh_token!, insecure);
    // A failed Basic authentication answers 401 with a WWW-Authenticate challenge rather than a JSON error.
    await expect(oauth.processRefreshTokenResponse(as, post, viaBasic)).rejects.toMatchObject({
      status: 401,
      cause: [{ scheme: 'basic', parameters: { error: 'invalid_client' } }],
    });
    expect((await refresh(basic, refresh_token!)).access_token).toBeTypeOf('string');
  });

  it('refuses a code exchanged with another redirect_uri, a wrong verifier, or a second time', async () => {
    const exchange = async (redirectUri: string, verifier: string, params: URLSearchParams) =>
      oauth.processAuthorizationCodeResponse(as, basic, await oauth.authorizationCodeGrantRequest(as, basic, authOf(basic), params, redirectUri, verifier, insecure));

    const flow = await startFlow(basic);
    const params = oauth.validateAuthResponse(as, basic, new URL((await provider.authorize(flow.link)).location), flow.state);
    await expect(exchange(`${vmcp.callback}/elsewhere`, flow.verifier, params)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(exchange(vmcp.callback, oauth.generateRandomCodeVerifier(), params)).rejects.toMatchObject({ error: 'invalid_grant' });
    const tokens = await exchange(vmcp.callback, flow.verifier, params);
    await expect(exchange(vmcp.callback, flow.verifier, params)).rejects.toMatchObject({ error: 'invalid_grant' });
    // A replayed code revokes what it had issued.
    expect(await provider.verifyAccessToken(tokens.access_token)).toEqual({ active: false });
  });

  it('sends error=access_denied back to the callback when the user denies', async () => {
    const { link, state } = await startFlow(basic);
    const { location } = await provider.authorize(link, { deny: true });
    const callback = new URL(location);
    expect(`${callback.origin}${callback.pathname}`).toBe(vmcp.callback);
    expect(Object.fromEntries(callback.searchParams)).toMatchObject({ error: 'access_denied', state });
    expect(callback.searchParams.has('code')).toBe(false);
  });

  it("follows through the callback to the client's final page when asked", async () => {
    const { link, state } = await startFlow(basic);
    const result = await provider.authorize(link, { follow: 'callback' });
    expect(result).toMatchObject({ status: 200, body: `connected ${state}` });
    expect(result.location.startsWith(`${vmcp.callback}?code=`)).toBe(true);
  });

  it('applies a changed access token lifetime to new tokens, which then expire', async () => {
    provider.setAccessTokenTtl(1);
    try {
      const tokens = await connect(basic, 'frank');
      expect(tokens.expires_in).toBe(1);
      await waitFor(async () => !(await provider.verifyAccessToken(tokens.access_token)).active, { timeoutMs: 3000, what: 'token expiry' });
    } finally {
      provider.setAccessTokenTtl(3600);
    }
  });

  it('guards an upstream MCP server with its tokens (authorize option)', async () => {
    const upstream = await startUpstreamMcpServer({
      authorize: async (header) => !!header?.startsWith('Bearer ') && (await provider.verifyAccessToken(header.slice('Bearer '.length))).active,
    });
    try {
      const denied = await fetch(upstream.url, {
        method: 'POST',
        headers: { authorization: 'Bearer nope', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
      });
      expect(denied.status).toBe(401);
      expect(denied.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(upstream.initializeCount()).toBe(0);

      const { access_token } = await connect(basic, 'grace');
      const client = new McpClient({ name: 'spec', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(upstream.url), { requestInit: { headers: { authorization: `Bearer ${access_token}` } } }));
      const result = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
      expect(result.content).toEqual([{ type: 'text', text: 'hi' }]);
      await client.close();
    } finally {
      await upstream.close();
    }
  });
});
