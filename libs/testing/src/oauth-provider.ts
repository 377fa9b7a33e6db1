import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OAuthClientOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Exact redirect URIs; the authorize request and the code exchange must use one of them. */
  readonly redirectUris: readonly string[];
  /** How the client authenticates at the token and revocation endpoints (the other method is invalid_client); client_secret_basic by default. */
  readonly tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
}

export interface OAuthProviderOptions {
  readonly clients: readonly OAuthClientOptions[];
  /** Scopes the protected resource knows, e.g. ['files:read']; requested scopes outside this list are dropped. */
  readonly scopes?: readonly string[];
  /** Lifetime of access tokens issued from now on; 3600 by default (see setAccessTokenTtl). */
  readonly accessTokenTtlSeconds?: number;
}

export interface AuthorizeOptions {
  /** The account that signs in and consents; 'test-user' by default. */
  readonly accountId?: string;
  /** Answer the consent screen with `access_denied`. */
  readonly deny?: boolean;
  /** 'provider' (default): stop at the redirect back to the client, unfetched. 'callback': fetch it too and follow on. */
  readonly follow?: 'provider' | 'callback';
}

export interface AuthorizeResult {
  /**
   * With follow 'provider', the redirect target that leaves the provider (the client's callback URL with
   * code or error, and state). With follow 'callback', or when a page answered without redirecting, the
   * URL of the last page fetched.
   */
  readonly location: string;
  /** Status of the redirect that pointed at `location`, or of the last page fetched. */
  readonly status: number;
  /** Body of the last page fetched (absent when `location` was not fetched). */
  readonly body?: string;
}

export interface AccessTokenInfo {
  readonly active: boolean;
  readonly accountId?: string;
  readonly clientId?: string;
  readonly scope?: string;
}

export interface OAuthRequestCounts {
  /** Token endpoint requests with grant_type=authorization_code, successful or not. */
  readonly authorizationCode: number;
  /** Token endpoint requests with grant_type=refresh_token, successful or not. */
  readonly refreshToken: number;
  /** Requests to the revocation endpoint. */
  readonly revocation: number;
}

export interface OAuthProvider {
  /** e.g. http://127.0.0.1:1234 (no trailing slash); authorization responses carry it as `iss`. */
  readonly issuer: string;
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly revocationUrl: string;
  /** Applies to access tokens issued afterwards. */
  setAccessTokenTtl(seconds: number): void;
  /**
   * Acts as a browser: GETs `link`, follows redirects with a cookie jar of its own, signs in and consents
   * (or denies) at the provider, and stops at the redirect back to the client (see AuthorizeOptions.follow).
   */
  authorize(link: string, options?: AuthorizeOptions): Promise<AuthorizeResult>;
  /** What a resource server learns about a bearer token: expired, revoked or unknown tokens are inactive. */
  verifyAccessToken(token: string): Promise<AccessTokenInfo>;
  /** Drops every grant and token of the account: its next refresh fails with invalid_grant. */
  revokeGrants(accountId: string): Promise<void>;
  counts(): OAuthRequestCounts;
  close(): Promise<void>;
}

// oidc-provider ships no type declarations; these describe the part of it used here.
type Next = () => Promise<void>;
interface KoaContext {
  readonly oidc?: { readonly route?: string; readonly params?: { readonly grant_type?: unknown } };
}
interface Interaction {
  readonly prompt: {
    readonly name: string;
    readonly details: {
      readonly missingOIDCScope?: string[];
      readonly missingOIDCClaims?: string[];
      readonly missingResourceScopes?: Record<string, string[]>;
    };
  };
  readonly params: { readonly client_id?: string };
  readonly session?: { readonly accountId?: string };
  readonly grantId?: string;
}
interface GrantModel {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}
interface AccessTokenModel {
  readonly accountId?: string;
  readonly clientId?: string;
  readonly scope?: string;
  readonly grantId?: string;
  readonly isExpired: boolean;
}
interface ClientModel {
  readonly clientAuthMethod: string;
  compareClientSecret(secret: string): boolean | Promise<boolean>;
}
interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  use(middleware: (ctx: KoaContext, next: Next) => Promise<void>): void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: object, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  readonly Grant: { new (init: { accountId: string; clientId: string }): GrantModel; find(id: string): Promise<GrantModel | undefined> };
  readonly AccessToken: { find(token: string): Promise<AccessTokenModel | undefined> };
  readonly Client: { readonly prototype: ClientModel };
}
interface ProviderConstructor {
  new (issuer: string, configuration: object): OidcProvider;
  /** The Koa context of the request being handled. */
  readonly ctx: { readonly headers: IncomingMessage['headers'] } | undefined;
}

// A specifier TypeScript cannot resolve statically: the import is typed by ProviderConstructor above.
const OIDC_PROVIDER = 'oidc-provider';

// Tells the interaction route, per request, how the simulated user answers.
const ACCOUNT_HEADER = 'x-test-account-id';
const DENY_HEADER = 'x-test-deny';
const INTERACTION_PATH = '/interaction/';
const DEFAULT_ACCOUNT = 'test-user';
const MAX_HOPS = 20;

/**
 * A real OAuth 2.0 authorization server (oidc-provider) for tests: authorization code with PKCE S256
 * required, refresh tokens always issued and rotated on every use, RFC 7009 revocation, opaque access
 * tokens for one resource whose scopes are `options.scopes`. Login and consent happen automatically.
 */
export async function startOAuthProvider(options: OAuthProviderOptions): Promise<OAuthProvider> {
  const { default: Provider } = (await import(OIDC_PROVIDER)) as { default: ProviderConstructor };
  let accessTokenTtl = options.accessTokenTtlSeconds ?? 3600;
  const scope = (options.scopes ?? ['read', 'write']).filter((s) => s !== 'openid' && s !== 'offline_access').join(' ');
  const store = new Map<string, StoredEntry>();
  const counts = { authorizationCode: 0, refreshToken: 0, revocation: 0 };

  const http: Server = createServer();
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  // Every token is for this one resource, whether or not the client sends `resource`.
  const resource = `${issuer}/resource`;
  // A signing key of our own (else oidc-provider warns about its development keys); P-256 is instant to make.
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

  const provider = new Provider(issuer, {
    adapter: memoryAdapter(store),
    jwks: { keys: [{ ...jwk, use: 'sig', alg: 'ES256' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: [...c.redirectUris],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: c.tokenEndpointAuthMethod ?? 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    })),
    // Expiry is exact, so a test can watch a token with a one-second lifetime turn inactive.
    clockTolerance: 0,
    pkce: { required: () => true },
    issueRefreshToken: () => true,
    rotateRefreshToken: true,
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `${INTERACTION_PATH}${interaction.uid}` },
    clientBasedCORS: () => true,
    renderError: (ctx: { type: string; body: unknown }, out: { error: string; error_description?: string }) => {
      ctx.type = 'text';
      ctx.body = `${out.error}: ${out.error_description ?? ''}`;
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true, allowedPolicy: (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) => token.clientId === client.clientId },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string[]) => oneOf?.[0] ?? resource,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope, audience: resource, accessTokenFormat: 'opaque' }),
      },
    },
    ttl: {
      AccessToken: () => accessTokenTtl,
      AuthorizationCode: 60,
      Interaction: 300,
      Session: 3600,
      Grant: 86_400,
      RefreshToken: 86_400,
      IdToken: 3600,
    },
  });

  // oidc-provider takes client_secret_basic and client_secret_post interchangeably; here a client must
  // use the method it registered, so a test notices when the wrong one is sent.
  const compareSecret = provider.Client.prototype.compareClientSecret;
  provider.Client.prototype.compareClientSecret = function (this: ClientModel, secret: string) {
    const usedBasic = Provider.ctx?.headers.authorization !== undefined;
    return usedBasic === (this.clientAuthMethod === 'client_secret_basic') && compareSecret.call(this, secret);
  };

  provider.use(async (ctx, next) => {
    await next();
    const route = ctx.oidc?.route;
    if (route === 'revocation') counts.revocation++;
    if (route === 'token') {
      const grantType = ctx.oidc?.params?.grant_type;
      if (grantType === 'authorization_code') counts.authorizationCode++;
      if (grantType === 'refresh_token') counts.refreshToken++;
    }
  });

  // Login, then consent to whatever the client asked for; or refuse when the browser says so.
  const interact = async (req: IncomingMessage, res: ServerResponse) => {
    const details = await provider.interactionDetails(req, res);
    if (req.headers[DENY_HEADER] === '1') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User denied the request' }, { mergeWithLastSubmission: false });
      return;
    }
    if (details.prompt.name === 'login') {
      const accountId = (req.headers[ACCOUNT_HEADER] as string | undefined) ?? DEFAULT_ACCOUNT;
      await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
      return;
    }
    const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    const grant = existing ?? new provider.Grant({ accountId: details.session?.accountId ?? DEFAULT_ACCOUNT, clientId: details.params.client_id ?? '' });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  };

  const handle = provider.callback();
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!req.url?.startsWith(INTERACTION_PATH)) {
      handle(req, res);
      return;
    }
    interact(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' }).end(`interaction failed: ${String(err)}`);
    });
  });

  return {
    issuer,
    authorizeUrl: `${issuer}/auth`,
    tokenUrl: `${issuer}/token`,
    revocationUrl: `${issuer}/token/revocation`,
    setAccessTokenTtl(seconds) {
      accessTokenTtl = seconds;
    },
    authorize: (link, authorizeOptions = {}) => browse(link, issuer, authorizeOptions),
    async verifyAccessToken(token) {
      const at = await provider.AccessToken.find(token);
      if (!at || at.isExpired || !at.grantId || !(await provider.Grant.find(at.grantId))) return { active: false };
      return { active: true, accountId: at.accountId, clientId: at.clientId, scope: at.scope };
    },
    async revokeGrants(accountId) {
      for (const [key, entry] of store) {
        if (entry.payload.accountId === accountId && REVOCABLE.has(key.slice(0, key.indexOf(':')))) store.delete(key);
      }
    },
    counts: () => ({ ...counts }),
    async close() {
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

/** Follows redirects like a browser would, from `link` until the provider sends the user back. */
async function browse(link: string, issuer: string, options: AuthorizeOptions): Promise<AuthorizeResult> {
  const providerOrigin = new URL(issuer).origin;
  const jar = new Map<string, Map<string, string>>();
  let url = link;
  let visitedProvider = false;
  let leftProvider = false;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const target = new URL(url);
    const onProvider = target.origin === providerOrigin;
    visitedProvider ||= onProvider;
    const cookies = jar.get(target.host) ?? new Map<string, string>();
    jar.set(target.host, cookies);
    const headers: Record<string, string> = {};
    if (cookies.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (onProvider) {
      headers[ACCOUNT_HEADER] = options.accountId ?? DEFAULT_ACCOUNT;
      if (options.deny) headers[DENY_HEADER] = '1';
    }
    const res = await fetch(url, { redirect: 'manual', headers });
    storeCookies(cookies, res.headers.getSetCookie());
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) {
      return { location: url, status: res.status, body: await res.text() };
    }
    await res.body?.cancel();
    url = new URL(location, url).href;
    if (visitedProvider && !leftProvider && new URL(url).origin !== providerOrigin) {
      if (options.follow !== 'callback') return { location: url, status: res.status };
      leftProvider = true;
    }
  }
  throw new Error(`more than ${MAX_HOPS} redirects starting at ${link}`);
}

function storeCookies(cookies: Map<string, string>, setCookies: string[]): void {
  for (const line of setCookies) {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expires = attributes.map((a) => a.trim()).find((a) => /^expires=/i.test(a));
    const expired = expires !== undefined && Date.parse(expires.slice('expires='.length)) <= Date.now();
    const maxAgeZero = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
    if (!value || expired || maxAgeZero) cookies.delete(name);
    else cookies.set(name, value);
  }
}

interface StoredPayload {
  readonly accountId?: string;
  readonly grantId?: string;
  readonly uid?: string;
  readonly userCode?: string;
  consumed?: number;
}
interface StoredEntry {
  readonly payload: StoredPayload;
  readonly expiresAt: number;
}

// Artifacts that belong to an account's grants; revokeGrants drops them all.
const REVOCABLE = new Set(['Grant', 'AccessToken', 'RefreshToken', 'AuthorizationCode']);

/**
 * oidc-provider's storage interface over one Map per provider (its built-in memory adapter shares a
 * module-wide store between providers and warns at start-up).
 */
function memoryAdapter(store: Map<string, StoredEntry>) {
  return (model: string) => {
    const key = (id: string) => `${model}:${id}`;
    const live = (k: string): StoredPayload | undefined => {
      const entry = store.get(k);
      if (entry && entry.expiresAt <= Date.now()) store.delete(k);
      return entry && entry.expiresAt > Date.now() ? entry.payload : undefined;
    };
    const scan = (match: (p: StoredPayload) => boolean): StoredPayload | undefined => {
      for (const k of store.keys()) {
        const payload = k.startsWith(`${model}:`) ? live(k) : undefined;
        if (payload && match(payload)) return payload;
      }
      return undefined;
    };
    return {
      upsert: async (id: string, payload: StoredPayload, expiresIn?: number) =>
        void store.set(key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity }),
      find: async (id: string) => live(key(id)),
      findByUid: async (uid: string) => scan((p) => p.uid === uid),
      findByUserCode: async (userCode: string) => scan((p) => p.userCode === userCode),
      consume: async (id: string) => {
        const payload = live(key(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id: string) => void store.delete(key(id)),
      revokeByGrantId: async (grantId: string) => {
        for (const [k, entry] of store) if (k.startsWith(`${model}:`) && entry.payload.grantId === grantId) store.delete(k);
      },
    };
  };
}
