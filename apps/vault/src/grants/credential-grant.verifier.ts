import { Injectable } from '@nestjs/common';
import {
  CREDENTIAL_GRANT_AUDIENCE,
  CREDENTIAL_GRANT_TYPE,
  CredentialGrantClaims,
  policy,
  VmcpError,
  type RpcReply,
} from '@vmcp/contracts';
import { Bus, PolicyKeySet } from '@vmcp/messaging';
import { decodeProtectedHeader, jwtVerify } from 'jose';

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
  private readonly keys: PolicyKeySet;

  constructor(source: GrantKeySource) {
    this.keys = new PolicyKeySet(() => source.fetch(), REFETCH_INTERVAL_MS);
  }

  async verify(grant: string, tenantId: string, accountId: string): Promise<CredentialGrantClaims> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(grant).kid;
    } catch {
      throw refused('it is not a signed grant');
    }
    if (!kid) throw refused('it names no signing key');
    const keys = await this.keys.forKid(kid);
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
}

function refused(why: string): VmcpError {
  return new VmcpError('FORBIDDEN', `credential request refused: the grant is not valid for this account (${why})`);
}
