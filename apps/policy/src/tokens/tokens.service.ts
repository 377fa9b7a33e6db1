import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { newId, VmcpError } from '@vmcp/contracts';
import { DataSource, nowIso } from '@vmcp/persistence';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { ConfigsService } from '../configs/configs.service.js';
import { SessionTokenEntity, SigningKeyEntity } from '../entities/policy.entities.js';
import { RevocationsKv } from '../shared/revocations.kv.js';
import { isUniqueViolation } from '../shared/pagination.js';

/**
 * Session tokens: EdDSA JWTs that edges verify locally with the public keys; the token
 * id (jti) is recorded so it can be revoked, and revocations go to the KV bucket edges watch.
 */
@Injectable()
export class TokensService implements OnModuleInit {
  private signing?: { kid: string; key: CryptoKey | Uint8Array };
  private publicJwks: Array<JWK & { kid: string; kty: string; alg: string }> = [];

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly ds: DataSource,
    private readonly configs: ConfigsService,
    private readonly revocations: RevocationsKv,
  ) {}

  async onModuleInit(): Promise<void> {
    const repo = this.ds.getRepository(SigningKeyEntity);
    let rows = await repo.find({ order: { created_at: 'DESC' } });
    if (!rows.length) {
      const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
      const publicJwk = await exportJWK(publicKey);
      const kid = await calculateJwkThumbprint(publicJwk);
      try {
        await repo.insert({
          kid,
          private_jwk: JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' }),
          public_jwk: JSON.stringify({ ...publicJwk, kid, alg: 'EdDSA', use: 'sig' }),
          created_at: nowIso(),
        });
      } catch (err) {
        // Another replica generated the first key at the same moment; use the stored one.
        if (!isUniqueViolation(err)) throw err;
      }
      rows = await repo.find({ order: { created_at: 'DESC' } });
    }
    const newest = rows[0];
    if (!newest) throw new Error('no signing key could be stored');
    this.signing = { kid: newest.kid, key: await importJWK(JSON.parse(newest.private_jwk) as JWK, 'EdDSA') };
    this.publicJwks = rows.map((r) => JSON.parse(r.public_jwk) as JWK & { kid: string; kty: string; alg: string });
  }

  keys() {
    return { issuer: this.config.publicUrl, keys: this.publicJwks };
  }

  /** The newest signing key, shared with credential grants (told apart by `typ` and audience). */
  signingKey(): { kid: string; key: CryptoKey | Uint8Array } {
    if (!this.signing) throw new VmcpError('UNAVAILABLE', 'signing key not loaded');
    return this.signing;
  }

  async mint(tenantId: string, configId: string, identifier: string, expirySeconds: number) {
    await this.configs.entity(tenantId, configId);
    const signing = this.signingKey();
    const tokenId = newId('tok');
    const now = Math.floor(Date.now() / 1000);
    const exp = now + expirySeconds;
    const mcpServerUrl = this.configs.mcpServerUrl(configId);
    const token = await new SignJWT({ tid: tenantId, cfg: configId })
      .setProtectedHeader({ alg: 'EdDSA', kid: signing.kid, typ: 'JWT' })
      .setIssuer(this.config.publicUrl)
      .setAudience(mcpServerUrl)
      .setSubject(identifier)
      .setJti(tokenId)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(signing.key);
    const expiresAt = new Date(exp * 1000).toISOString();
    await this.ds.getRepository(SessionTokenEntity).insert({
      id: tokenId,
      tenant_id: tenantId,
      config_id: configId,
      identifier,
      expires_at: expiresAt,
      revoked_at: null,
      created_at: nowIso(),
    });
    return { token, token_id: tokenId, expires_at: expiresAt, mcp_server_url: mcpServerUrl };
  }

  async revoke(tenantId: string, tokenId: string): Promise<void> {
    const repo = this.ds.getRepository(SessionTokenEntity);
    const row = await repo.findOneBy({ id: tokenId, tenant_id: tenantId });
    if (!row) throw new VmcpError('NOT_FOUND', `token ${tokenId} not found`);
    // The bucket first: edges refuse the token from that moment on.
    await this.revocations.revoke(tokenId);
    if (!row.revoked_at) await repo.update({ id: tokenId }, { revoked_at: nowIso() });
  }

  /** A token is usable when policy knows it, it belongs to this principal and is neither revoked nor expired. */
  async isUsable(tenantId: string, tokenId: string, configId: string, identifier: string): Promise<boolean> {
    const row = await this.ds.getRepository(SessionTokenEntity).findOneBy({ id: tokenId, tenant_id: tenantId });
    return Boolean(row && !row.revoked_at && row.config_id === configId && row.identifier === identifier && row.expires_at > nowIso());
  }
}
