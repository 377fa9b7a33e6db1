import { AuthType, StaticAuth, staticAuthMatches, VmcpError } from '@vmcp/contracts';
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

/**
 * The binding of a stored credential row, as the vault reads it back: the one place that
 * maps columns to additional data. Undefined for an auth type this build does not know.
 */
export function storedCredentialBinding(row: {
  readonly tenant_id: string;
  readonly account_id: string;
  readonly key_version: number;
  readonly auth_type: string;
}): CredentialBinding | undefined {
  const authType = AuthType.safeParse(row.auth_type);
  if (!authType.success) return undefined;
  return { tenantId: row.tenant_id, accountId: row.account_id, keyVersion: row.key_version, authType: authType.data };
}

/**
 * Moves a sealed credential to another key (a data-key rotation): opens it under `from`,
 * seals the same plaintext bytes under `to` with a fresh nonce. It never parses the
 * plaintext, so it works for every kind of credential (static secrets, OAuth token sets, …),
 * and the plaintext is zeroed before it returns. Throws `undecryptableCredential` when
 * `from` does not open it.
 */
export function resealCredential(
  from: { readonly key: Buffer; readonly binding: CredentialBinding; readonly sealed: Sealed },
  to: { readonly key: Buffer; readonly binding: CredentialBinding },
): Sealed {
  let plaintext: Buffer;
  try {
    plaintext = open(from.key, from.sealed, credentialAad(from.binding));
  } catch (err) {
    if (err instanceof DecryptError) throw undecryptableCredential(from.binding.accountId);
    throw err;
  }
  try {
    return seal(to.key, plaintext, credentialAad(to.binding));
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
