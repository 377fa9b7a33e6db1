import * as oauth from 'oauth4webapi';
import { VmcpError, type vault } from '@vmcp/contracts';
import type { z } from 'zod';
import type { TokenSet } from './oauth.crypto.js';

type OAuthClient = z.infer<typeof vault.OAuthClient>;

export interface ProviderOptions {
  readonly timeoutMs: number;
  readonly allowHttp: boolean;
}

/** Tokens as the provider returned them, with the expiry turned into an instant. */
export interface IssuedTokens {
  readonly tokens: TokenSet;
  readonly expiresAt: Date | undefined;
}

/**
 * What went wrong at the provider, in the terms that decide what happens next: `refused`
 * means the grant itself is gone (the user must authorize again), `client` that the
 * connection's OAuth client is misconfigured, `unavailable` that trying later may work.
 */
export class ProviderError extends Error {
  constructor(
    readonly kind: 'refused' | 'client' | 'unavailable' | 'invalid',
    /** The provider's OAuth error code, when it gave one (e.g. invalid_grant). */
    readonly oauthError: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/**
 * Talks to one connection's authorization server (RFC 6749, PKCE RFC 7636, revocation
 * RFC 7009) through oauth4webapi. No secret ever goes into an error or a log from here:
 * messages carry the provider's error code and nothing it echoed back.
 */
export class ProviderClient {
  private readonly as: oauth.AuthorizationServer;
  private readonly client: oauth.Client;
  private readonly auth: oauth.ClientAuth;

  constructor(
    private readonly settings: OAuthClient,
    clientSecret: string | undefined,
    private readonly options: ProviderOptions,
  ) {
    this.as = {
      issuer: settings.issuer ?? new URL(settings.authorize_url).origin,
      authorization_endpoint: settings.authorize_url,
      token_endpoint: settings.token_url,
      ...(settings.revocation_url ? { revocation_endpoint: settings.revocation_url } : {}),
    };
    this.client = { client_id: settings.client_id };
    this.auth = authFor(settings.token_endpoint_auth_method, clientSecret);
  }

  /** The provider's authorize URL for one link: code flow, PKCE S256, our state. */
  static authorizeUrl(settings: OAuthClient, p: { redirectUri: string; state: string; codeChallenge: string }): string {
    const url = new URL(settings.authorize_url);
    // Parameters the connection put in its authorize URL (e.g. access_type=offline) stay.
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', settings.client_id);
    url.searchParams.set('redirect_uri', p.redirectUri);
    if (settings.scopes.length) url.searchParams.set('scope', settings.scopes.join(' '));
    url.searchParams.set('state', p.state);
    url.searchParams.set('code_challenge', p.codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
    return url.toString();
  }

  async exchangeCode(callback: { code: string; state: string; iss?: string | undefined }, redirectUri: string, codeVerifier: string): Promise<IssuedTokens> {
    return this.run('code exchange', async () => {
      const params = new URLSearchParams({ code: callback.code, state: callback.state });
      if (callback.iss) params.set('iss', callback.iss);
      // The state was checked (signature, single use) before we got here.
      const checked = oauth.validateAuthResponse(this.as, this.client, params, oauth.skipStateCheck);
      const response = await oauth.authorizationCodeGrantRequest(this.as, this.client, this.auth, checked, redirectUri, codeVerifier, this.requestOptions());
      return issued(await oauth.processAuthorizationCodeResponse(this.as, this.client, response), undefined);
    });
  }

  /** A fresh token set; a provider that does not rotate refresh tokens keeps the old one. */
  async refresh(current: TokenSet): Promise<IssuedTokens> {
    const refreshToken = current.refresh_token;
    if (!refreshToken) throw new ProviderError('refused', undefined, 'the provider issued no refresh token, so the access token cannot be renewed');
    return this.run('token refresh', async () => {
      const response = await oauth.refreshTokenGrantRequest(this.as, this.client, this.auth, refreshToken, this.requestOptions());
      return issued(await oauth.processRefreshTokenResponse(this.as, this.client, response), refreshToken, current.instance_url);
    });
  }

  /** RFC 7009: revoking the refresh token ends the grant at most providers; the access token too where there is none. */
  async revoke(tokens: TokenSet): Promise<boolean> {
    if (!this.settings.revocation_url) return false;
    const [token, hint] = tokens.refresh_token ? [tokens.refresh_token, 'refresh_token'] : [tokens.access_token, 'access_token'];
    await this.run('token revocation', async () => {
      const response = await oauth.revocationRequest(this.as, this.client, this.auth, token, {
        ...this.requestOptions(),
        additionalParameters: { token_type_hint: hint },
      });
      await oauth.processRevocationResponse(response);
    });
    return true;
  }

  private requestOptions() {
    return {
      signal: AbortSignal.timeout(this.options.timeoutMs),
      [oauth.allowInsecureRequests]: this.options.allowHttp,
      [oauth.customFetch]: fetchNormalizingTokenResponses,
    };
  }

  private async run<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw describe(what, err);
    }
  }
}

/**
 * Some providers answer their token endpoint outside RFC 6749: Slack sends HTTP 200 with
 * `{ok: false, error}` for a refusal and `token_type: "bot"` for a bot token. Such answers
 * are rewritten to the standard form (an error as HTTP 400 `{error}`, a bot token as a
 * bearer token) before oauth4webapi reads them; standard answers pass untouched.
 */
async function fetchNormalizingTokenResponses(url: string, init: RequestInit): Promise<Response> {
  const response = await fetch(url, init);
  if (response.status !== 200 || !/json/i.test(response.headers.get('content-type') ?? '')) return response;
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return new Response(text, { status: response.status, headers: response.headers });
  }
  const headers = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  if (body.ok === false) return new Response(JSON.stringify({ error: typeof body.error === 'string' ? body.error : 'invalid_request' }), { status: 400, headers });
  if (body.token_type === 'bot') return new Response(JSON.stringify({ ...body, token_type: 'bearer' }), { status: 200, headers });
  return new Response(text, { status: 200, headers });
}

function authFor(method: OAuthClient['token_endpoint_auth_method'], secret: string | undefined): oauth.ClientAuth {
  if (method === 'none') return oauth.None();
  if (!secret) throw new VmcpError('FAILED_PRECONDITION', 'the connection has no OAuth client secret; set settings.oauth.client_secret');
  return method === 'client_secret_post' ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret);
}

function issued(r: oauth.TokenEndpointResponse, previousRefreshToken: string | undefined, previousInstance?: string): IssuedTokens {
  const refreshToken = r.refresh_token ?? previousRefreshToken;
  // Salesforce says where the org's API lives; other providers' answers have no such field.
  const instance = instanceUrl(r.instance_url) ?? previousInstance;
  return {
    tokens: {
      access_token: r.access_token,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      token_type: r.token_type,
      ...(r.scope ? { scope: r.scope } : {}),
      ...(instance ? { instance_url: instance } : {}),
    },
    expiresAt: typeof r.expires_in === 'number' ? new Date(Date.now() + r.expires_in * 1000) : undefined,
  };
}

/** An https (or loopback http) origin, or undefined: what a token answer may name as the account's API base. */
function instanceUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) return undefined;
  if (url.username || url.password) return undefined;
  return url.origin;
}

// Error codes of RFC 6749 §5.2 that mean the client, not the grant, is wrong.
const CLIENT_ERRORS = new Set(['invalid_client', 'unauthorized_client', 'unsupported_grant_type']);

/** One safe sentence per failure: the provider's error code, never its description or any token. */
function describe(what: string, err: unknown): Error {
  if (err instanceof ProviderError || err instanceof VmcpError) return err;
  if (err instanceof oauth.ResponseBodyError) return fromCode(what, err.error, err.status);
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    const code = err.cause[0]?.parameters.error;
    return fromCode(what, typeof code === 'string' ? code : 'invalid_client', err.status);
  }
  if (err instanceof oauth.AuthorizationResponseError) return new ProviderError('refused', err.error, `${what}: the provider answered ${safeCode(err.error)}`);
  if (err instanceof oauth.UnsupportedOperationError) return new ProviderError('client', undefined, `${what}: ${err.message}`);
  if (err instanceof oauth.OperationProcessingError) {
    return new ProviderError('invalid', undefined, `${what}: the provider's answer is not a valid OAuth 2.0 response (${err.code ?? 'unexpected response'})`);
  }
  const name = (err as { name?: string }).name;
  if (name === 'TimeoutError' || name === 'AbortError') return new ProviderError('unavailable', undefined, `${what}: the provider did not answer in time`);
  return new ProviderError('unavailable', undefined, `${what}: the provider could not be reached`);
}

function fromCode(what: string, code: string, status: number): ProviderError {
  const said = `${what}: the provider answered ${safeCode(code)} (HTTP ${status})`;
  if (code === 'invalid_grant') return new ProviderError('refused', code, said);
  if (CLIENT_ERRORS.has(code)) return new ProviderError('client', code, said);
  if (status >= 500 || code === 'temporarily_unavailable') return new ProviderError('unavailable', code, said);
  return new ProviderError('invalid', code, said);
}

/** OAuth error codes are a restricted charset (RFC 6749 §5.2); anything else is not repeated. */
function safeCode(code: string): string {
  return /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(code) ? code : 'an error';
}
