import { z } from 'zod';

/**
 * A credential grant: policy's signed statement that one tenant's connected account may
 * be used now, for one allowed call or one tool discovery. The executor carries it to
 * the vault, which resolves a credential only for the tenant and account a grant names
 * (issue 3). An EdDSA JWT under policy's session-token keys, told apart from a session
 * token by its `typ` header and audience, so neither can stand in for the other.
 */
export const CredentialGrant = z.string().min(16).max(4096);
export type CredentialGrant = z.infer<typeof CredentialGrant>;

export const CREDENTIAL_GRANT_TYPE = 'vmcp-grant+jwt';
export const CREDENTIAL_GRANT_AUDIENCE = 'vmcp:vault';
/** Long enough for the slowest upstream handshake after the decision, short enough to be useless if leaked. */
export const CREDENTIAL_GRANT_TTL_SECONDS = 120;

/** The claims besides the registered ones (`sub` is the account id). */
export const CredentialGrantClaims = z.object({
  sub: z.string(),
  tid: z.string(),
  /** `call` for an allowed tools/call, `list` for a tool discovery. */
  use: z.enum(['call', 'list']),
});
export type CredentialGrantClaims = z.infer<typeof CredentialGrantClaims>;
