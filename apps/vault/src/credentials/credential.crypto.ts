import { StaticAuth, staticAuthMatches, VmcpError, type AuthType } from '@vmcp/contracts';
import { additionalData, DecryptError, open, seal, type Sealed } from '../crypto/aes-gcm.crypto.js';

/** What a sealed credential belongs to. All of it is authenticated, none of it is secret. */
export interface CredentialBinding {
  readonly tenantId: string;
  readonly accountId: string;
  readonly keyVersion: number;
  readonly authType: AuthType;
}

/**
 * Additional data of a credential. Tenant and account make a row copied to another tenant
 * or account unreadable (DESIGN.md invariant 3); the key version stops a row from being
 * replayed under another key; the auth type stops a row from being relabelled, e.g. a
 * bearer token presented upstream as an API key.
 */
export function credentialAad(b: CredentialBinding): string {
  return additionalData('vmcp:cred:v1', [b.tenantId, b.accountId, b.keyVersion, b.authType]);
}

/** The one error a caller sees for an unreadable credential: ids only, never bytes. */
export function undecryptableCredential(accountId: string): VmcpError {
  return new VmcpError(
    'FAILED_PRECONDITION',
    `credential for account ${accountId} cannot be decrypted (wrong tenant, account or key version, or tampered data)`,
  );
}

export function sealCredential(dataKey: Buffer, binding: CredentialBinding, secret: StaticAuth): Sealed {
  const plaintext = Buffer.from(JSON.stringify(secret), 'utf8');
  try {
    return seal(dataKey, plaintext, credentialAad(binding));
  } finally {
    plaintext.fill(0);
  }
}

/** Opens a credential, or throws `undecryptableCredential` when anything about it does not match. */
export function openCredential(dataKey: Buffer, binding: CredentialBinding, sealed: Sealed): StaticAuth {
  let plaintext: Buffer;
  try {
    plaintext = open(dataKey, sealed, credentialAad(binding));
  } catch (err) {
    if (err instanceof DecryptError) throw undecryptableCredential(binding.accountId);
    throw err;
  }
  try {
    const parsed = StaticAuth.safeParse(JSON.parse(plaintext.toString('utf8')));
    if (parsed.success && staticAuthMatches(binding.authType, parsed.data)) return parsed.data;
  } catch {
    // Not JSON: handled below, without echoing the bytes.
  } finally {
    plaintext.fill(0);
  }
  // Authentic but unusable: only a bug in the writer gets here, never a request.
  throw new VmcpError('FAILED_PRECONDITION', `credential for account ${binding.accountId} is not a valid ${binding.authType} credential`);
}
