import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export interface GrantSigner {
  /** What policy's `tokens.keys` would reply. */
  readonly keys: { issuer: string; keys: Array<JWK & { kid: string; kty: string; alg: string }> };
  /** A credential grant as policy signs one; the overrides make the broken ones tests need. */
  sign(
    tenantId: string,
    accountId: string,
    overrides?: { use?: string; expiresInSeconds?: number; audience?: string; typ?: string; issuer?: string },
  ): Promise<string>;
}

/** A stand-in for policy's grant signing key, for vault and executor tests. */
export async function createGrantSigner(issuer = 'http://vmcp.test'): Promise<GrantSigner> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return {
    keys: { issuer, keys: [{ ...jwk, kid, kty: jwk.kty ?? 'OKP', alg: 'EdDSA' }] },
    sign(tenantId, accountId, o = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ tid: tenantId, use: o.use ?? 'call' })
        .setProtectedHeader({ alg: 'EdDSA', kid, typ: o.typ ?? 'vmcp-grant+jwt' })
        .setIssuer(o.issuer ?? issuer)
        .setAudience(o.audience ?? 'vmcp:vault')
        .setSubject(accountId)
        .setIssuedAt(now)
        .setExpirationTime(now + (o.expiresInSeconds ?? 120))
        .sign(privateKey);
    },
  };
}
