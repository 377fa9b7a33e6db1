import { Inject, Injectable } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { CREDENTIAL_GRANT_AUDIENCE, CREDENTIAL_GRANT_TTL_SECONDS, CREDENTIAL_GRANT_TYPE, type CredentialGrantClaims } from '@vmcp/contracts';
import { SignJWT } from 'jose';
import { TokensService } from '../tokens/tokens.service.js';

/**
 * Signs credential grants (see grants.ts in the contracts): the vault resolves a
 * credential only for the tenant and account policy named, so an executor cannot be
 * talked into fetching another account's credential.
 */
@Injectable()
export class CredentialGrantsService {
  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly tokens: TokensService,
  ) {}

  sign(tenantId: string, accountId: string, use: CredentialGrantClaims['use']): Promise<string> {
    const { kid, key } = this.tokens.signingKey();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ tid: tenantId, use })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: CREDENTIAL_GRANT_TYPE })
      .setIssuer(this.config.publicUrl)
      .setAudience(CREDENTIAL_GRANT_AUDIENCE)
      .setSubject(accountId)
      .setIssuedAt(now)
      .setExpirationTime(now + CREDENTIAL_GRANT_TTL_SECONDS)
      .sign(key);
  }
}
