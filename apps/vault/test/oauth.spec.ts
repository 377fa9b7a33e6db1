import 'reflect-metadata';
import { newId } from '@vmcp/contracts';
import { DATABASE_KINDS, startOAuthProvider, waitFor, type OAuthProvider } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVaultFixture, type VaultControllers, type VaultFixture } from './vault-fixture.js';

// OAuth connected accounts in the vault, against a real authorization server (oidc-provider):
// the code flow with PKCE and a signed single-use state, refresh with rotation, one refresh
// per account across replicas, refusal, revocation, and no secret at rest.

const CLIENT_SECRET = 'client-secret-0f6c2a9b7d';
const OTHER_SECRET = 'other-client-secret-44c1e8';
const PUBLIC_URL = 'http://127.0.0.1:8080';
const CALLBACK = `${PUBLIC_URL}/oauth/callback`;

type Reply = { error?: { code: string; message: string } } & Record<string, unknown>;

describe.each(DATABASE_KINDS)('OAuth accounts in the vault (%s)', (kind) => {
  let provider: OAuthProvider;
  let fx: VaultFixture;
  let vault: VaultControllers;
  const tenant = newId('ten');
  const connection = newId('conn');

  const client = (over: Record<string, unknown> = {}) => ({
    client_id: 'vmcp-app',
    scopes: ['files:read', 'offline_access'],
    authorize_url: provider.authorizeUrl,
    token_url: provider.tokenUrl,
    revocation_url: provider.revocationUrl,
    token_endpoint_auth_method: 'client_secret_basic',
    ...over,
  });

  /** Link → provider (login, consent) → the callback's query, as the edge would receive it. */
  async function authorize(accountId: string, options: { user?: string; deny?: boolean; conn?: string } = {}) {
    const link = (await vault.oauth.createLink({ tenant_id: tenant, connection_id: options.conn ?? connection, account_id: accountId, redirect_url: 'https://app.example/done' })) as Reply;
    const state = String(link.link).split('/oauth/authorize/')[1]!;
    const opened = (await vault.oauth.openLink({ state })) as Reply;
    const back = await provider.authorize(String(opened.authorize_url), { accountId: options.user ?? accountId, deny: options.deny ?? false });
    const url = new URL(back.location);
    expect(url.origin + url.pathname).toBe(CALLBACK);
    return { state, params: Object.fromEntries(url.searchParams) as Record<string, string>, authorizeUrl: new URL(String(opened.authorize_url)) };
  }

  async function connect(accountId: string, user = accountId) {
    const { params } = await authorize(accountId, { user });
    const done = (await vault.oauth.complete(params)) as Reply;
    expect(done).toMatchObject({ outcome: 'authorized', tenant_id: tenant, account_id: accountId, redirect_url: 'https://app.example/done' });
  }

  const resolve = (accountId: string, rejected?: string) =>
    vault.resolve({ tenant_id: tenant, account_id: accountId, ...(rejected ? { rejected_token: rejected } : {}) }) as Promise<Reply>;
  const tokenOf = async (accountId: string) => {
    const r = await resolve(accountId);
    expect(r).toMatchObject({ auth_type: 'oauth2' });
    return (r.secret as { token: string }).token;
  };

  beforeAll(async () => {
    provider = await startOAuthProvider({
      clients: [
        { clientId: 'vmcp-app', clientSecret: CLIENT_SECRET, redirectUris: [CALLBACK] },
        { clientId: 'other-app', clientSecret: OTHER_SECRET, redirectUris: [CALLBACK], tokenEndpointAuthMethod: 'client_secret_post' },
        // Registered with another redirect URI than vmcp's callback.
        { clientId: 'misregistered-app', clientSecret: OTHER_SECRET, redirectUris: ['https://elsewhere.example/callback'] },
      ],
      scopes: ['files:read'],
    });
    fx = await openVaultFixture(kind, { VMCP_PUBLIC_URL: PUBLIC_URL, VMCP_OAUTH_HTTP_TIMEOUT_MS: '3000' });
    vault = fx.replica();
    expect(await vault.oauth.storeClient({ tenant_id: tenant, connection_id: connection, client: client(), client_secret: CLIENT_SECRET })).toEqual({
      stored: true,
      client_secret_set: true,
    });
  });

  afterAll(async () => {
    await fx?.close();
    await provider?.close();
  });

  it('runs the code flow with PKCE S256 and stores the tokens sealed, nothing in the clear', async () => {
    const account = newId('ca');
    const { authorizeUrl } = await authorize(account).then(async (a) => {
      expect(await vault.oauth.complete(a.params)).toMatchObject({ outcome: 'authorized', account_id: account });
      return a;
    });
    const q = authorizeUrl.searchParams;
    expect(Object.fromEntries(q)).toMatchObject({ response_type: 'code', client_id: 'vmcp-app', redirect_uri: CALLBACK, code_challenge_method: 'S256', scope: 'files:read offline_access' });
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const token = await tokenOf(account);
    expect(await provider.verifyAccessToken(token)).toMatchObject({ active: true, accountId: account, clientId: 'vmcp-app' });

    // Whoever reads the database sees no token, no client secret and no PKCE verifier.
    const raw = JSON.stringify([await fx.rows('credentials'), await fx.rows('oauth_clients'), await fx.rows('oauth_states')]);
    for (const secret of [token, CLIENT_SECRET]) {
      expect(raw).not.toContain(secret);
      expect(raw).not.toContain(Buffer.from(secret).toString('base64'));
    }
    const [row] = await fx.rows('credentials', { account_id: account });
    expect(row).toMatchObject({ auth_type: 'oauth2', connection_id: connection });
    expect(Date.parse(String(row!.expires_at))).toBeGreaterThan(Date.now());
    expect(fx.logs.join('')).not.toContain(token);
  });

  it('refuses a tampered, replayed or expired state, and stores nothing for it', async () => {
    const account = newId('ca');
    const { state, params } = await authorize(account);
    const [id, mac] = state.split('.') as [string, string];
    // Each one differs from the real state (a flipped last character, never the same one).
    const flip = (s: string) => `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`;
    const forged = [`${id}.${flip(mac)}`, `${flip(id)}.${mac}`, `${id}${mac}`];
    for (const s of forged) {
      expect(await vault.oauth.complete({ ...params, state: s })).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
      expect(await vault.oauth.openLink({ state: s })).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    }
    expect(await vault.oauth.complete(params)).toMatchObject({ outcome: 'authorized' });
    // Replayed: the state was consumed, the link is spent.
    expect(await vault.oauth.complete(params)).toMatchObject({ error: { code: 'FAILED_PRECONDITION', message: expect.stringMatching(/already been used/) } });
    expect(await vault.oauth.openLink({ state })).toMatchObject({ error: { code: 'FAILED_PRECONDITION' } });

    const late = newId('ca');
    const expiring = await authorize(late);
    await fx.updateRows('oauth_states', { expires_at: new Date(Date.now() - 1000).toISOString() }, { account_id: late });
    expect(await vault.oauth.complete(expiring.params)).toMatchObject({ error: { code: 'FAILED_PRECONDITION', message: expect.stringMatching(/expired/) } });
    expect(await fx.rows('credentials', { account_id: late })).toEqual([]);
  });

  it('records a refusal at the provider and a code for another client without storing anything', async () => {
    const denied = newId('ca');
    const { params } = await authorize(denied, { deny: true });
    expect(params.error).toBe('access_denied');
    expect(await vault.oauth.complete(params)).toMatchObject({ outcome: 'denied', error: 'access_denied', account_id: denied });
    expect(await fx.rows('credentials', { account_id: denied })).toEqual([]);

    // A code issued to another client, presented with one of our states: the provider refuses it.
    const otherConnection = newId('conn');
    await vault.oauth.storeClient({ tenant_id: tenant, connection_id: otherConnection, client: client({ client_id: 'other-app', token_endpoint_auth_method: 'client_secret_post' }), client_secret: OTHER_SECRET });
    const theirs = await authorize(newId('ca'), { conn: otherConnection });
    const victim = newId('ca');
    const ours = await authorize(victim);
    const reply = (await vault.oauth.complete({ ...ours.params, code: theirs.params.code })) as Reply;
    expect(reply).toMatchObject({ error: { code: 'FAILED_PRECONDITION', message: expect.stringMatching(/invalid_grant/) } });
    expect(JSON.stringify(reply)).not.toContain(theirs.params.code);
    expect(await fx.rows('credentials', { account_id: victim })).toEqual([]);
  });

  it('stops at the provider when the redirect URI does not match its registration, and stores nothing', async () => {
    const misregistered = newId('conn');
    await vault.oauth.storeClient({ tenant_id: tenant, connection_id: misregistered, client: client({ client_id: 'misregistered-app' }), client_secret: OTHER_SECRET });
    const account = newId('ca');
    const link = (await vault.oauth.createLink({ tenant_id: tenant, connection_id: misregistered, account_id: account })) as Reply;
    const opened = (await vault.oauth.openLink({ state: String(link.link).split('/oauth/authorize/')[1] })) as Reply;
    const page = await provider.authorize(String(opened.authorize_url), { accountId: account });
    // The provider never redirects to an unregistered URI: no code reaches anyone.
    expect(page.status).toBe(400);
    expect(page.body).toMatch(/redirect_uri/);
    expect(page.location.startsWith(CALLBACK)).toBe(false);
    expect(await fx.rows('credentials', { account_id: account })).toEqual([]);
  });

  it('refreshes a refused token once, honouring rotation, however many callers ask at once, on every replica', async () => {
    const account = newId('ca');
    await connect(account);
    const first = await tokenOf(account);
    const before = provider.counts().refreshToken;
    // Twenty callers on two replicas all saw `first` refused upstream at the same moment.
    const replicas = [fx.replica(), fx.replica()];
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => replicas[i % 2]!.resolve({ tenant_id: tenant, account_id: account, rejected_token: first }) as Promise<Reply>));
    expect(provider.counts().refreshToken - before).toBe(1);
    const tokens = new Set(replies.map((r) => (r.secret as { token: string }).token));
    expect(tokens.size).toBe(1);
    const second = [...tokens][0]!;
    expect(second).not.toBe(first);
    expect(await provider.verifyAccessToken(second)).toMatchObject({ active: true });
    // The rotated refresh token works: a second refresh succeeds (a reused one would kill the grant).
    await resolve(account, second);
    expect(provider.counts().refreshToken - before).toBe(2);
    expect(await provider.verifyAccessToken(await tokenOf(account))).toMatchObject({ active: true });
  });

  it('refreshes before expiry, at most half a short lifetime ahead', async () => {
    const account = newId('ca');
    // 10 s: its first half leaves a loaded machine room to read it twice before a refresh is due.
    provider.setAccessTokenTtl(10);
    try {
      await connect(account);
    } finally {
      provider.setAccessTokenTtl(3600);
    }
    const short = await tokenOf(account);
    // Within the first half of its life the token is handed out as it is.
    expect(await tokenOf(account)).toBe(short);
    const [row] = await fx.rows('credentials', { account_id: account });
    await waitFor(() => Date.now() >= Date.parse(String(row!.expires_at)) - 5000, { timeoutMs: 10_000, intervalMs: 100 });
    const renewed = await tokenOf(account);
    expect(renewed).not.toBe(short);
    expect(await provider.verifyAccessToken(renewed)).toMatchObject({ active: true });
  });

  it('marks an account whose refresh the provider refuses as expired, asks for re-authorization, and stops calling the provider', async () => {
    const account = newId('ca');
    const user = `user-${account}`;
    await connect(account, user);
    const token = await tokenOf(account);
    await provider.revokeGrants(user);
    const refused = await resolve(account, token);
    expect(refused).toMatchObject({ error: { code: 'ACCOUNT_NOT_ACTIVE', message: expect.stringMatching(/must authorize again/) } });
    expect(JSON.stringify(refused)).not.toMatch(/invalid_grant|refresh token/i);
    expect(fx.expired).toContainEqual({ tenant_id: tenant, account_id: account, reason: 'invalid_grant' });
    const calls = provider.counts().refreshToken;
    expect(await resolve(account)).toMatchObject({ error: { code: 'ACCOUNT_NOT_ACTIVE' } });
    expect(provider.counts().refreshToken).toBe(calls);
    // Authorizing again brings it back.
    await connect(account, user);
    expect(await provider.verifyAccessToken(await tokenOf(account))).toMatchObject({ active: true });
  });

  it('revokes the grant at the provider when the account is destroyed', async () => {
    const account = newId('ca');
    await connect(account);
    const token = await tokenOf(account);
    const before = provider.counts().revocation;
    expect(await vault.destroy({ tenant_id: tenant, account_id: account })).toEqual({ destroyed: true, revoked_at_provider: true });
    expect(provider.counts().revocation - before).toBe(1);
    expect(await provider.verifyAccessToken(token)).toMatchObject({ active: false });
    expect(await resolve(account)).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('keeps tenants apart: links, clients and tokens of another tenant are not found', async () => {
    const other = newId('ten');
    expect(await vault.oauth.createLink({ tenant_id: other, connection_id: connection, account_id: newId('ca') })).toMatchObject({ error: { code: 'FAILED_PRECONDITION' } });
    expect(await vault.oauth.storeClient({ tenant_id: other, connection_id: connection, client: client(), client_secret: 'x-secret-y' })).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const account = newId('ca');
    await connect(account);
    // A token row copied to another tenant does not decrypt there.
    const [row] = await fx.rows('credentials', { account_id: account });
    const copy = newId('ca');
    await fx.insertRow('credentials', { ...row, account_id: copy, tenant_id: other });
    expect(await vault.resolve({ tenant_id: other, account_id: copy })).toMatchObject({ error: { code: 'FAILED_PRECONDITION', message: expect.stringMatching(/cannot be decrypted/) } });
  });

  it('rejects malformed OAuth requests with INVALID_ARGUMENT', async () => {
    const bad: Array<[keyof VaultControllers['oauth'], unknown]> = [
      ['storeClient', { tenant_id: tenant, connection_id: connection, client: client({ token_url: 'not a url' }) }],
      ['storeClient', { tenant_id: tenant, connection_id: connection, client: client(), client_secret: '' }],
      ['createLink', { tenant_id: tenant, connection_id: connection, account_id: newId('ca'), redirect_url: 'javascript:alert(1)' }],
      ['openLink', { state: 'short' }],
      ['complete', { state: 'x'.repeat(300) }],
      ['complete', { state: 'a'.repeat(40), code: 'c', extra: true }],
    ];
    for (const [op, body] of bad) expect(await vault.oauth[op](body)).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  });
});
