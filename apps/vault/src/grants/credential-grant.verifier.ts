import { Injectable } from '@nestjs/common';
import {
  CREDENTIAL_GRANT_AUDIENCE,
  CREDENTIAL_GRANT_TYPE,
  CredentialGrantClaims,
  policy,
  VmcpError,
  type RpcReply,
} from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';

type Keys = RpcReply<typeof policy.tokenKeys>;

/** Where grant signing keys come from: policy over the bus in the service, a local key pair in tests. */
export abstract class GrantKeySource {
  abstract fetch(): Promise<Keys>;
}

@Injectable()
export class BusGrantKeySource extends GrantKeySource {
  constructor(private readonly bus: Bus) {
    super();
  }

  fetch(): Promise<Keys> {
    return this.bus.request(policy.tokenKeys, {});
  }
}

/** How often an unknown `kid` may trigger a refetch of policy's keys. */
const REFETCH_INTERVAL_MS = 10_000;

/**
 * Checks that a credential request carries policy's grant for exactly this tenant and
 * account. Without it, a compromised or confused executor could ask for any account's
 * credential; with it, only for accounts policy just allowed.
 */
@Injectable()
export class CredentialGrantVerifier {
  private keys?: { issuer: string; jwks: ReturnType<typeof createLocalJWKSet>; kids: Set<string> };
  private fetching?: Promise<void>;
  private lastFetch = 0;

  constructor(private readonly source: GrantKeySource) {}

  async verify(grant: string, tenantId: string, accountId: string): Promise<CredentialGrantClaims> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(grant).kid;
    } catch {
      throw refused('it is not a signed grant');
    }
    if (!kid) throw refused('it names no signing key');
    await this.load(kid);
    const keys = this.keys;
    if (!keys) throw new VmcpError('UNAVAILABLE', 'grant signing keys are not available');
    let payload;
    try {
      ({ payload } = await jwtVerify(grant, keys.jwks, {
        algorithms: ['EdDSA'],
        typ: CREDENTIAL_GRANT_TYPE,
        audience: CREDENTIAL_GRANT_AUDIENCE,
        issuer: keys.issuer,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      throw refused((err as { code?: string }).code === 'ERR_JWT_EXPIRED' ? 'it has expired' : 'its signature or claims are not valid');
    }
    const claims = CredentialGrantClaims.safeParse(payload);
    if (!claims.success) throw refused('its claims are not valid');
    if (claims.data.tid !== tenantId || claims.data.sub !== accountId) throw refused('it was issued for another tenant or account');
    return claims.data;
  }

  private async load(kid: string): Promise<void> {
    if (this.keys?.kids.has(kid)) return;
    if (this.keys && Date.now() - this.lastFetch < REFETCH_INTERVAL_MS) return;
    this.fetching ??= (async () => {
      try {
        const reply = await this.source.fetch();
        this.keys = {
          issuer: reply.issuer,
          jwks: createLocalJWKSet({ keys: reply.keys } as JSONWebKeySet),
          kids: new Set(reply.keys.map((k) => k.kid)),
        };
        this.lastFetch = Date.now();
      } finally {
        this.fetching = undefined;
      }
    })();
    await this.fetching;
  }
}

function refused(why: string): VmcpError {
  return new VmcpError('FORBIDDEN', `credential request refused: the grant is not valid for this account (${why})`);
}
