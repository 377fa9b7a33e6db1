import { Inject, Injectable } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { ConfigId, Identifier, TenantId, TokenId, VmcpError, type SessionPrincipal } from '@vmcp/contracts';
import { Bus, PolicyKeySet } from '@vmcp/messaging';
import { errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod';
import { RevocationsService } from './revocations.service.js';

const Claims = z.object({
  sub: Identifier,
  tid: TenantId,
  cfg: ConfigId,
  jti: TokenId,
});

/** Why a bearer was refused; goes into WWW-Authenticate, so it says nothing secret. */
export class InvalidSessionToken extends Error {
  constructor(readonly description: string) {
    super(description);
  }
}

/** Only these algorithms are accepted, whatever a token's header says (no `none`, no HS*). */
const ALGORITHMS = ['EdDSA'];
/** Verified tokens remembered, so a busy agent's token is not re-verified on every request. */
const VERIFIED_CACHE_MAX = 10_000;
/** How often an unknown `kid` may trigger a refetch of the signing keys. */
const KEY_REFRESH_INTERVAL_MS = 5000;

/**
 * Verifies session tokens locally: signature against policy's public keys (cached,
 * refreshed on an unknown key id), issuer, audience = this config's mcp_server_url,
 * expiry, claim shapes, then the revocation mirror.
 */
@Injectable()
export class SessionTokensService {
  private readonly keys: PolicyKeySet;
  /** token → principal and expiry (ms); only ever filled after a full verification. */
  private readonly verified = new Map<string, { principal: SessionPrincipal; expiresAtMs: number; configId: string }>();

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    bus: Bus,
    private readonly revocations: RevocationsService,
  ) {
    // New keys may retire old ones: every cached verification is redone.
    this.keys = PolicyKeySet.overBus(bus, KEY_REFRESH_INTERVAL_MS, () => this.verified.clear());
  }

  mcpServerUrl(configId: string): string {
    return `${this.config.publicUrl}/mcp/${configId}`;
  }

  private kidOf(token: string): string | undefined {
    try {
      const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: unknown };
      return typeof header.kid === 'string' ? header.kid : undefined;
    } catch {
      return undefined;
    }
  }

  /** A principal for this config, or InvalidSessionToken; bus failures surface as VmcpError. */
  async verify(token: string, configId: string): Promise<SessionPrincipal> {
    const hit = this.verified.get(token);
    if (hit && hit.configId === configId && hit.expiresAtMs > Date.now()) {
      // Signature, issuer and audience were checked when it was cached; revocation never is.
      await this.checkRevocation(hit.principal.token_id ?? '');
      return hit.principal;
    }
    const principal = await this.verifyFully(token, configId);
    if (this.verified.size >= VERIFIED_CACHE_MAX) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
    const exp = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp: number }).exp;
    this.verified.set(token, { principal, configId, expiresAtMs: exp * 1000 });
    return principal;
  }

  private async checkRevocation(tokenId: string): Promise<void> {
    if (!(await this.revocations.whenReady(this.config.busTimeoutMs))) {
      throw new VmcpError('UNAVAILABLE', 'revocation list not loaded yet');
    }
    if (this.revocations.isTokenRevoked(tokenId)) throw new InvalidSessionToken('token revoked');
  }

  private async verifyFully(token: string, configId: string): Promise<SessionPrincipal> {
    if (token.length > 4096 || token.split('.').length !== 3) throw new InvalidSessionToken('malformed token');
    const kid = this.kidOf(token);
    if (!kid) throw new InvalidSessionToken('malformed token');
    const keys = await this.keys.forKid(kid);
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, keys.jwks, {
        algorithms: ALGORITHMS,
        issuer: keys.issuer,
        audience: this.mcpServerUrl(configId),
        requiredClaims: ['exp', 'iat', 'jti', 'sub'],
        clockTolerance: 5,
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new InvalidSessionToken('token expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw new InvalidSessionToken('token is not valid for this server');
      throw new InvalidSessionToken('invalid token');
    }
    const claims = Claims.safeParse(payload);
    if (!claims.success || claims.data.cfg !== configId) throw new InvalidSessionToken('token is not valid for this server');
    await this.checkRevocation(claims.data.jti);
    return { tenant_id: claims.data.tid, config_id: claims.data.cfg, identifier: claims.data.sub, token_id: claims.data.jti };
  }
}
