import { Inject, Injectable } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { VmcpError, type RpcReply, type RpcRequestParsed, type vault } from '@vmcp/contracts';
import { DataSource, nowIso } from '@vmcp/persistence';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import * as oauth from 'oauth4webapi';
import { LessThan } from 'typeorm';
import { fromColumns, toColumns } from '../crypto/aes-gcm.crypto.js';
import { DataKeysService } from '../keys/data-keys.service.js';
import { OAuthClientsService } from './oauth-clients.service.js';
import { openText, sealText, StateSigner, verifierAad } from './oauth.crypto.js';
import { OAuthStateEntity } from './oauth.entities.js';
import { OAuthTokensService } from './oauth-tokens.service.js';
import { ProviderClient, ProviderError } from './provider-client.js';

/** States this long past expiry are deleted when new links are made. */
const STATE_RETENTION_MS = 24 * 3600_000;

/** The path of the edge's callback; the provider must have it registered as a redirect URI. */
export const CALLBACK_PATH = '/oauth/callback';
export const AUTHORIZE_PATH = '/oauth/authorize';

/**
 * The authorization code flow with PKCE for OAuth connected accounts. The vault makes the
 * link, holds the verifier, checks the state (signature, expiry, single use) and exchanges
 * the code itself, so the code, the verifier and the tokens never leave it.
 */
@Injectable()
export class AuthorizationService {
  private readonly states: StateSigner;
  private readonly redirectUri: string;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly ds: DataSource,
    private readonly keys: DataKeysService,
    private readonly clients: OAuthClientsService,
    private readonly tokens: OAuthTokensService,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {
    this.states = new StateSigner(config.masterKey, config.previousMasterKeys);
    this.redirectUri = `${config.publicUrl}${CALLBACK_PATH}`;
  }

  async createLink(req: RpcRequestParsed<typeof vault.createAuthorizationLink>): Promise<RpcReply<typeof vault.createAuthorizationLink>> {
    // Fails early, with the reason, when the connection's client is not in the vault.
    await this.clients.load(req.tenant_id, req.connection_id);
    const repo = this.ds.getRepository(OAuthStateEntity);
    await repo.delete({ expires_at: LessThan(new Date(Date.now() - STATE_RETENTION_MS).toISOString()) });

    const { id, state } = this.states.issue();
    const verifier = oauth.generateRandomCodeVerifier();
    const { version, key } = await this.keys.current(req.tenant_id);
    const expiresAt = new Date(Date.now() + this.config.oauth.linkTtlSeconds * 1000).toISOString();
    await repo.insert({
      id,
      tenant_id: req.tenant_id,
      connection_id: req.connection_id,
      account_id: req.account_id,
      redirect_url: req.redirect_url ?? null,
      key_version: version,
      ...toColumns(sealText(key, verifierAad(req.tenant_id, id, version), verifier)),
      expires_at: expiresAt,
      used_at: null,
      created_at: nowIso(),
    });
    return { link: `${this.config.publicUrl}${AUTHORIZE_PATH}/${state}`, expires_at: expiresAt };
  }

  /** Opening a link: the provider's authorize URL, as long as the link is unused and unexpired. */
  async open(state: string): Promise<RpcReply<typeof vault.openAuthorizationLink>> {
    const row = await this.usable(state);
    const { client } = await this.clients.load(row.tenant_id, row.connection_id);
    const verifier = await this.verifier(row);
    const authorizeUrl = ProviderClient.authorizeUrl(client, {
      redirectUri: this.redirectUri,
      state,
      codeChallenge: await oauth.calculatePKCECodeChallenge(verifier),
    });
    return { authorize_url: authorizeUrl };
  }

  /**
   * The provider sent the user back. The state is consumed first (a replay finds it used),
   * then the code is exchanged and the tokens stored; on any failure nothing is stored.
   */
  async complete(req: RpcRequestParsed<typeof vault.completeAuthorization>): Promise<RpcReply<typeof vault.completeAuthorization>> {
    const row = await this.usable(req.state);
    const claimed = await this.ds
      .createQueryBuilder()
      .update(OAuthStateEntity)
      .set({ used_at: nowIso() })
      .where('id = :id AND used_at IS NULL', { id: row.id })
      .execute();
    if ((claimed.affected ?? 0) === 0) throw alreadyUsed();

    const who = { tenant_id: row.tenant_id, account_id: row.account_id, redirect_url: row.redirect_url };
    if (req.error) {
      this.logger.info({ account_id: row.account_id, error: req.error.slice(0, 64) }, 'authorization refused at the provider');
      return { outcome: 'denied', ...who, error: /^[\x20-\x7e]{1,64}$/.test(req.error) ? req.error : 'access_denied' };
    }
    if (!req.code) throw new VmcpError('INVALID_ARGUMENT', 'the callback carries neither a code nor an error');

    const { client, secret } = await this.clients.load(row.tenant_id, row.connection_id);
    const verifier = await this.verifier(row);
    let issued;
    try {
      issued = await new ProviderClient(client, secret, this.providerOptions()).exchangeCode({ code: req.code, state: req.state, iss: req.iss }, this.redirectUri, verifier);
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      this.logger.warn({ account_id: row.account_id, connection_id: row.connection_id, kind: err.kind, oauth_error: err.oauthError }, 'authorization code exchange failed');
      throw new VmcpError(err.kind === 'unavailable' ? 'UNAVAILABLE' : 'FAILED_PRECONDITION', `authorization failed: ${err.message}`);
    }
    await this.tokens.store(row.tenant_id, row.account_id, row.connection_id, issued);
    this.logger.info({ account_id: row.account_id, connection_id: row.connection_id }, 'OAuth account authorized');
    return { outcome: 'authorized', ...who };
  }

  private providerOptions() {
    return { timeoutMs: this.config.oauth.httpTimeoutMs, allowHttp: this.config.oauth.allowHttp };
  }

  /** The state's row, if this vault signed it and it is neither used nor expired. */
  private async usable(state: string): Promise<OAuthStateEntity> {
    const id = this.states.verify(state);
    if (!id) throw new VmcpError('INVALID_ARGUMENT', 'the authorization state is not valid (altered, or not issued by this vmcp)');
    const row = await this.ds.getRepository(OAuthStateEntity).findOneBy({ id });
    if (!row) throw new VmcpError('NOT_FOUND', 'the authorization link is unknown or was removed; ask for a new one');
    if (row.used_at) throw alreadyUsed();
    if (row.expires_at <= nowIso()) throw new VmcpError('FAILED_PRECONDITION', 'the authorization link has expired; ask for a new one');
    return row;
  }

  private async verifier(row: OAuthStateEntity): Promise<string> {
    const unreadable = () => new VmcpError('FAILED_PRECONDITION', 'the authorization state cannot be decrypted');
    const key = await this.keys.find(row.tenant_id, row.key_version);
    if (!key) throw unreadable();
    return openText(key, verifierAad(row.tenant_id, row.id, row.key_version), fromColumns(row), unreadable);
  }
}

function alreadyUsed(): VmcpError {
  return new VmcpError('FAILED_PRECONDITION', 'the authorization link has already been used; ask for a new one');
}
