import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { VmcpError, type RpcReply, type vault } from '@vmcp/contracts';
import { DataSource, nowIso } from '@vmcp/persistence';
import { VMCP_LOGGER } from '@vmcp/runtime';
import { metrics, type Logger } from '@vmcp/telemetry';
import { fromColumns, toColumns } from '../crypto/aes-gcm.crypto.js';
import { CredentialEntity } from '../credentials/credential.entity.js';
import { storedCredentialBinding, undecryptableCredential } from '../credentials/credential.crypto.js';
import { upsertCredential } from '../credentials/upsert-credential.js';
import { DataKeysService } from '../keys/data-keys.service.js';
import { OAuthClientsService } from './oauth-clients.service.js';
import { openTokenSet, sealTokenSet, type TokenSet } from './oauth.crypto.js';
import { ProviderClient, ProviderError, type IssuedTokens } from './provider-client.js';
import { VaultEvents } from './vault-events.js';

type Resolved = RpcReply<typeof vault.resolveCredential>;

// How often a replica waiting for another one's refresh looks at the row again.
const LEASE_POLL_MS = 50;

/**
 * OAuth token sets of connected accounts: stored after the code exchange, handed to the
 * executor as a bearer token, refreshed before they expire or when the provider refused
 * them. One refresh per account at a time, across every vault replica: a replica takes a
 * lease on the row (a conditional update), the others wait for its result. That matters
 * beyond saving requests: with refresh-token rotation, two refreshes with the same
 * refresh token make most providers revoke the whole grant.
 */
@Injectable()
export class OAuthTokensService {
  /** This replica's refreshes in flight, so concurrent resolves share one. */
  private readonly refreshing = new Map<string, Promise<Resolved>>();
  private readonly replicaId = `vault-${randomBytes(6).toString('hex')}`;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly ds: DataSource,
    private readonly keys: DataKeysService,
    private readonly clients: OAuthClientsService,
    private readonly events: VaultEvents,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  /** Stores a fresh token set for an account (after authorization), replacing what it had. */
  async store(tenantId: string, accountId: string, connectionId: string, issued: IssuedTokens): Promise<void> {
    const { version, key } = await this.keys.current(tenantId);
    const binding = { tenantId, accountId, keyVersion: version, authType: 'oauth2' as const };
    const now = nowIso();
    const changes = {
      auth_type: 'oauth2',
      key_version: version,
      ...toColumns(sealTokenSet(key, binding, issued.tokens)),
      connection_id: connectionId,
      expires_at: issued.expiresAt?.toISOString() ?? null,
      refresh_lease_owner: null,
      refresh_lease_until: null,
      refused_at: null,
      updated_at: now,
    };
    await upsertCredential(this.ds, tenantId, accountId, changes, now);
  }

  /**
   * The account's access token, refreshed first when it is about to expire, or when the
   * provider just refused `rejectedToken` and it is still the stored one.
   */
  async resolve(row: CredentialEntity, rejectedToken?: string): Promise<Resolved> {
    if (row.refused_at) throw reauthorize(row.account_id);
    const tokens = await this.open(row);
    const stale = rejectedToken ? sameToken(tokens.access_token, rejectedToken) : this.due(row);
    if (!stale) return resolved(tokens, row.expires_at);
    return this.refreshOnce(row.tenant_id, row.account_id, tokens.access_token);
  }

  /** Revokes the account's grant at the provider, when it has a revocation endpoint. Never throws. */
  async revoke(row: CredentialEntity): Promise<boolean> {
    if (!row.connection_id) return false;
    try {
      const tokens = await this.open(row);
      const { client, secret } = await this.clients.load(row.tenant_id, row.connection_id);
      const revoked = await new ProviderClient(client, secret, this.providerOptions()).revoke(tokens);
      if (revoked) this.logger.info({ account_id: row.account_id }, 'OAuth grant revoked at the provider');
      return revoked;
    } catch (err) {
      // Disconnecting goes on regardless: the tokens are destroyed here either way.
      this.logger.warn({ account_id: row.account_id, err: (err as Error).message }, 'OAuth grant could not be revoked at the provider');
      return false;
    }
  }

  /**
   * Due for refresh: within the margin of expiry. The margin is at most half the token's
   * lifetime (from when it was stored), so a provider issuing short-lived tokens does not
   * get a refresh on every call.
   */
  private due(row: CredentialEntity): boolean {
    if (!row.expires_at) return false;
    const expires = Date.parse(row.expires_at);
    const lifetime = expires - Date.parse(row.updated_at);
    const margin = Math.min(this.config.oauth.refreshMarginSeconds * 1000, Math.max(0, lifetime / 2));
    return expires - Date.now() <= margin;
  }

  private refreshOnce(tenantId: string, accountId: string, staleToken: string): Promise<Resolved> {
    let pending = this.refreshing.get(accountId);
    if (!pending) {
      pending = this.refresh(tenantId, accountId, staleToken).finally(() => this.refreshing.delete(accountId));
      this.refreshing.set(accountId, pending);
    }
    return pending;
  }

  private async refresh(tenantId: string, accountId: string, staleToken: string): Promise<Resolved> {
    const leaseMs = this.config.oauth.httpTimeoutMs + 5000;
    const giveUpAt = Date.now() + 2 * leaseMs;
    for (;;) {
      const row = await this.row(tenantId, accountId);
      if (row.refused_at) throw reauthorize(accountId);
      const tokens = await this.open(row);
      // Someone else refreshed while we were deciding or waiting.
      if (!sameToken(tokens.access_token, staleToken)) return resolved(tokens, row.expires_at);
      if (await this.takeLease(tenantId, accountId, leaseMs)) return this.refreshHeld(row, tokens);
      if (Date.now() > giveUpAt) throw new VmcpError('UNAVAILABLE', `the OAuth token of account ${accountId} is being refreshed elsewhere; try again`);
      await delay(LEASE_POLL_MS);
    }
  }

  private async refreshHeld(row: CredentialEntity, tokens: TokenSet): Promise<Resolved> {
    const { tenant_id: tenantId, account_id: accountId } = row;
    try {
      if (!row.connection_id) throw new VmcpError('FAILED_PRECONDITION', `account ${accountId} has no OAuth connection recorded`);
      const { client, secret } = await this.clients.load(tenantId, row.connection_id);
      let issued: IssuedTokens;
      try {
        issued = await new ProviderClient(client, secret, this.providerOptions()).refresh(tokens);
      } catch (err) {
        return await this.refreshFailed(row, tokens, err);
      }
      await this.storeRefreshed(row, issued);
      metrics().vault.refresh('refreshed');
      this.events.credentialChanged({ tenant_id: tenantId, account_id: accountId, reason: 'refreshed' });
      this.logger.info({ account_id: accountId, rotated: issued.tokens.refresh_token !== tokens.refresh_token }, 'OAuth token refreshed');
      return resolved(issued.tokens, issued.expiresAt?.toISOString() ?? null);
    } finally {
      await this.releaseLease(tenantId, accountId);
    }
  }

  private async refreshFailed(row: CredentialEntity, tokens: TokenSet, err: unknown): Promise<Resolved> {
    metrics().vault.refresh(err instanceof ProviderError && err.kind === 'refused' ? 'refused' : 'failed');
    if (!(err instanceof ProviderError)) throw err;
    const { tenant_id: tenantId, account_id: accountId } = row;
    this.logger.warn({ account_id: accountId, kind: err.kind, oauth_error: err.oauthError }, 'OAuth token refresh failed');
    if (err.kind === 'refused') {
      await this.ds.getRepository(CredentialEntity).update({ account_id: accountId, tenant_id: tenantId }, { refused_at: nowIso() });
      this.events.accountExpired({ tenant_id: tenantId, account_id: accountId, reason: err.oauthError ?? 'refresh refused' });
      throw reauthorize(accountId);
    }
    // The provider is down or misconfigured: a token that has not expired yet still works.
    if (row.expires_at && Date.parse(row.expires_at) > Date.now()) return resolved(tokens, row.expires_at);
    if (err.kind === 'client') throw new VmcpError('FAILED_PRECONDITION', `the connection's OAuth client was refused: ${err.message}`);
    throw new VmcpError('UNAVAILABLE', `the OAuth token of account ${accountId} could not be refreshed: ${err.message}`);
  }

  /** Written only while this replica holds the lease, so a newer authorization is never overwritten. */
  private async storeRefreshed(row: CredentialEntity, issued: IssuedTokens): Promise<void> {
    const { version, key } = await this.keys.current(row.tenant_id);
    const binding = { tenantId: row.tenant_id, accountId: row.account_id, keyVersion: version, authType: 'oauth2' as const };
    await this.ds
      .createQueryBuilder()
      .update(CredentialEntity)
      .set({
        key_version: version,
        ...toColumns(sealTokenSet(key, binding, issued.tokens)),
        expires_at: issued.expiresAt?.toISOString() ?? null,
        updated_at: nowIso(),
      })
      .where('account_id = :a AND tenant_id = :t AND refresh_lease_owner = :me', { a: row.account_id, t: row.tenant_id, me: this.replicaId })
      .execute();
  }

  private async takeLease(tenantId: string, accountId: string, leaseMs: number): Promise<boolean> {
    const now = nowIso();
    const result = await this.ds
      .createQueryBuilder()
      .update(CredentialEntity)
      .set({ refresh_lease_owner: this.replicaId, refresh_lease_until: new Date(Date.now() + leaseMs).toISOString() })
      .where('account_id = :a AND tenant_id = :t AND (refresh_lease_until IS NULL OR refresh_lease_until < :now)', { a: accountId, t: tenantId, now })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  private async releaseLease(tenantId: string, accountId: string): Promise<void> {
    await this.ds
      .createQueryBuilder()
      .update(CredentialEntity)
      .set({ refresh_lease_owner: null, refresh_lease_until: null })
      .where('account_id = :a AND tenant_id = :t AND refresh_lease_owner = :me', { a: accountId, t: tenantId, me: this.replicaId })
      .execute();
  }

  private async row(tenantId: string, accountId: string): Promise<CredentialEntity> {
    const row = await this.ds.getRepository(CredentialEntity).findOneBy({ account_id: accountId, tenant_id: tenantId });
    if (!row) throw new VmcpError('NOT_FOUND', `no credential stored for account ${accountId}`);
    return row;
  }

  private async open(row: CredentialEntity): Promise<TokenSet> {
    const binding = storedCredentialBinding(row);
    const key = binding?.authType === 'oauth2' ? await this.keys.find(row.tenant_id, row.key_version) : undefined;
    try {
      if (!binding || !key) throw undecryptableCredential(row.account_id);
      const tokens = openTokenSet(key, binding, fromColumns(row));
      metrics().vault.decrypt('oauth2', 'ok');
      return tokens;
    } catch (err) {
      metrics().vault.decrypt('oauth2', 'failed');
      throw err;
    }
  }

  private providerOptions() {
    return { timeoutMs: this.config.oauth.httpTimeoutMs, allowHttp: this.config.oauth.allowHttp };
  }
}

function resolved(tokens: TokenSet, expiresAt: string | null): Resolved {
  return {
    auth_type: 'oauth2',
    secret: { token: tokens.access_token },
    ...(expiresAt ? { expires_at: expiresAt } : {}),
    ...(tokens.instance_url ? { base_url: tokens.instance_url } : {}),
  };
}

/** Constant-time comparison of two tokens, by digest so lengths do not leak either. */
function sameToken(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

function reauthorize(accountId: string): VmcpError {
  return new VmcpError(
    'ACCOUNT_NOT_ACTIVE',
    `the OAuth authorization of connected account ${accountId} has expired or was revoked at the provider; the user must authorize again (create a new authorization link)`,
  );
}
