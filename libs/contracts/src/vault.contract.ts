import { z } from 'zod';
import { AuthType, StaticAuth, TenantScoped, Timestamp } from './common.js';
import { AccountId, ConnectionId, TenantId } from './ids.js';
import { CredentialGrant } from './grants.js';
import { defineEvent, defineRpc } from './rpc.js';

// Subjects below are wire-compatible identifiers: never rename one in place.

/** Encrypts and stores (or replaces) the credential of one connected account. */
export const storeCredential = defineRpc({
  subject: 'vmcp.vault.v1.credentials.store',
  request: TenantScoped.extend({ account_id: AccountId, auth_type: AuthType, secret: StaticAuth }).strict(),
  reply: z.object({ stored: z.literal(true), key_version: z.number().int() }),
});

/**
 * Decrypts a credential. Only the executor's NATS user may publish here (bus permissions);
 * the plaintext lives in the executor's memory only.
 */
export const resolveCredential = defineRpc({
  subject: 'vmcp.vault.v1.credentials.resolve',
  /** `grant` must be policy's grant naming this tenant and account (see grants.ts). */
  request: TenantScoped.extend({
    account_id: AccountId,
    grant: CredentialGrant,
    /** OAuth: the access token the provider just refused; the vault refreshes unless that already happened. */
    rejected_token: z.string().min(1).max(8192).optional(),
  }).strict(),
  /**
   * OAuth accounts resolve to their access token as `{token}`, with its expiry, and the API
   * base the provider named for the account when it did (Salesforce's `instance_url`).
   */
  reply: z.object({ auth_type: AuthType, secret: StaticAuth, expires_at: Timestamp.optional(), base_url: z.url().max(2048).optional() }),
});

export const destroyCredential = defineRpc({
  subject: 'vmcp.vault.v1.credentials.destroy',
  request: TenantScoped.extend({ account_id: AccountId }).strict(),
  /** `revoked_at_provider`: OAuth accounts only, whether the provider confirmed the revocation. */
  reply: z.object({ destroyed: z.boolean(), revoked_at_provider: z.boolean().optional() }),
});

// ---------------------------------------------------------------------------------------
// OAuth 2.0 connected accounts. Client secrets, PKCE verifiers and token sets live in the
// vault only; the code exchange, refresh and revocation run here too.

/** How the vault authenticates to a token endpoint (RFC 6749 §2.3, OAuth 2.0 registry names). */
export const TokenEndpointAuthMethod = z.enum(['client_secret_basic', 'client_secret_post', 'none']);
export type TokenEndpointAuthMethod = z.infer<typeof TokenEndpointAuthMethod>;

/** A connection's OAuth client as the vault uses it: everything but the secret, which is separate. */
export const OAuthClient = z.object({
  client_id: z.string().min(1).max(512),
  scopes: z.array(z.string().min(1).max(256)).max(64),
  authorize_url: z.url().max(2048),
  token_url: z.url().max(2048),
  revocation_url: z.url().max(2048).optional(),
  /** The authorization server's issuer (RFC 8414/9207); defaults to the authorize URL's origin. */
  issuer: z.url().max(2048).optional(),
  token_endpoint_auth_method: TokenEndpointAuthMethod,
});
export type OAuthClient = z.infer<typeof OAuthClient>;

/** Stores (or replaces) a connection's OAuth client; an absent `client_secret` keeps the stored one. */
export const storeOAuthClient = defineRpc({
  subject: 'vmcp.vault.v1.oauth.clients.store',
  request: TenantScoped.extend({
    connection_id: ConnectionId,
    client: OAuthClient,
    client_secret: z.string().min(1).max(4096).optional(),
  }).strict(),
  reply: z.object({ stored: z.literal(true), client_secret_set: z.boolean() }),
});

export const destroyOAuthClient = defineRpc({
  subject: 'vmcp.vault.v1.oauth.clients.destroy',
  request: TenantScoped.extend({ connection_id: ConnectionId }).strict(),
  reply: z.object({ destroyed: z.boolean() }),
});

/** Where a user is sent back to after the provider: the tenant's app, http(s) only. */
export const RedirectUrl = z.url({ protocol: /^https?$/ }).max(2048);

/**
 * A short-lived authorization link for one account: opening it starts the authorization
 * code flow with PKCE (S256) and a signed, single-use `state`.
 */
export const createAuthorizationLink = defineRpc({
  subject: 'vmcp.vault.v1.oauth.links.create',
  request: TenantScoped.extend({
    connection_id: ConnectionId,
    account_id: AccountId,
    redirect_url: RedirectUrl.optional(),
  }).strict(),
  reply: z.object({ link: z.string(), expires_at: Timestamp }),
});

/** A signed state as it appears in a link or a callback; checked before anything is looked up. */
export const OAuthState = z.string().min(16).max(256);

/** Opening a link: where to send the user's browser (the provider's authorize endpoint). */
export const openAuthorizationLink = defineRpc({
  subject: 'vmcp.vault.v1.oauth.links.open',
  request: z.strictObject({ state: OAuthState }),
  reply: z.object({ authorize_url: z.string() }),
});

/**
 * The provider sent the user back: exchanges the code (or records the refusal), consuming
 * the state. The tenant and account come from the stored state, never from the request.
 */
export const completeAuthorization = defineRpc({
  subject: 'vmcp.vault.v1.oauth.callback',
  request: z.strictObject({
    state: OAuthState,
    code: z.string().min(1).max(4096).optional(),
    error: z.string().min(1).max(256).optional(),
    error_description: z.string().max(1024).optional(),
    iss: z.string().max(2048).optional(),
  }),
  reply: z.discriminatedUnion('outcome', [
    z.object({ outcome: z.literal('authorized'), tenant_id: TenantId, account_id: AccountId, redirect_url: z.string().nullable() }),
    z.object({
      outcome: z.literal('denied'),
      tenant_id: TenantId,
      account_id: AccountId,
      redirect_url: z.string().nullable(),
      /** The provider's error code (RFC 6749 §4.1.2.1), e.g. access_denied. */
      error: z.string(),
    }),
  ]),
});

/**
 * Published when an OAuth account can no longer be used: the provider refused its refresh
 * token. Policy marks the account EXPIRED; the user must authorize again.
 */
export const accountExpired = defineEvent({
  subject: 'vmcp.vault.v1.events.account_expired',
  payload: z.object({ tenant_id: TenantId, account_id: AccountId, reason: z.string().max(256) }),
});

/**
 * Published when the plaintext an executor may hold for an account changed or was
 * re-keyed: an OAuth token refreshed (`account_id` set), or a tenant's data key rotated
 * (`account_id` null: every account of the tenant). Executors drop pooled upstream
 * sessions holding the old credential at once (DESIGN.md invariant 1).
 */
export const credentialChanged = defineEvent({
  subject: 'vmcp.vault.v1.events.credential_changed',
  payload: z.object({ tenant_id: TenantId, account_id: AccountId.nullable(), reason: z.enum(['refreshed', 'rotated']) }),
});
