import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { VmcpError } from '@vmcp/contracts';
import { z } from 'zod';
import { additionalData, DecryptError, open, seal, type Sealed } from '../crypto/aes-gcm.crypto.js';
import { credentialAad, undecryptableCredential, type CredentialBinding } from '../credentials/credential.crypto.js';

/** What an OAuth account's credential row holds, sealed: the provider's tokens. */
export const TokenSet = z.strictObject({
  access_token: z.string().min(1).max(16_384),
  refresh_token: z.string().min(1).max(16_384).optional(),
  token_type: z.string().max(64),
  scope: z.string().max(4096).optional(),
  /** The API base the provider named for this grant (Salesforce's `instance_url`). */
  instance_url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
});
export type TokenSet = z.infer<typeof TokenSet>;

/** Sealed like every credential (same additional data, auth type `oauth2`), so rotation treats it alike. */
export function sealTokenSet(dataKey: Buffer, binding: CredentialBinding, tokens: TokenSet): Sealed {
  return sealJson(dataKey, credentialAad(binding), tokens);
}

export function openTokenSet(dataKey: Buffer, binding: CredentialBinding, sealed: Sealed): TokenSet {
  const parsed = TokenSet.safeParse(openJson(dataKey, credentialAad(binding), sealed, () => undecryptableCredential(binding.accountId)));
  if (!parsed.success) throw new VmcpError('FAILED_PRECONDITION', `credential for account ${binding.accountId} is not a valid OAuth token set`);
  return parsed.data;
}

/** Additional data of a connection's client secret: a row copied to another tenant or connection cannot open. */
export function clientSecretAad(tenantId: string, connectionId: string, keyVersion: number): string {
  return additionalData('vmcp:oauth-client:v1', [tenantId, connectionId, keyVersion]);
}

/** Additional data of an authorization link's PKCE verifier. */
export function verifierAad(tenantId: string, stateId: string, keyVersion: number): string {
  return additionalData('vmcp:oauth-state:v1', [tenantId, stateId, keyVersion]);
}

export function sealText(dataKey: Buffer, aad: string, text: string): Sealed {
  return sealJson(dataKey, aad, text);
}

export function openText(dataKey: Buffer, aad: string, sealed: Sealed, unreadable: () => Error): string {
  const value = openJson(dataKey, aad, sealed, unreadable);
  if (typeof value !== 'string') throw unreadable();
  return value;
}

function sealJson(dataKey: Buffer, aad: string, value: unknown): Sealed {
  const plaintext = Buffer.from(JSON.stringify(value), 'utf8');
  try {
    return seal(dataKey, plaintext, aad);
  } finally {
    plaintext.fill(0);
  }
}

function openJson(dataKey: Buffer, aad: string, sealed: Sealed, unreadable: () => Error): unknown {
  let plaintext: Buffer;
  try {
    plaintext = open(dataKey, sealed, aad);
  } catch (err) {
    if (err instanceof DecryptError) throw unreadable();
    throw err;
  }
  try {
    return JSON.parse(plaintext.toString('utf8'));
  } catch {
    throw unreadable();
  } finally {
    plaintext.fill(0);
  }
}

/**
 * Signs and checks the `state` of authorization links: `<id>.<HMAC>`, with a key derived
 * from the master key. A forged or altered state is refused before any row is read; the
 * previous master keys still verify states made before a rotation.
 */
export class StateSigner {
  private readonly current: Buffer;
  private readonly keys: Buffer[];

  /** `current` signs new states; `previous` (retired master keys) still verify older ones. */
  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    const derive = (k: Buffer) => Buffer.from(hkdfSync('sha256', k, 'vmcp', 'vmcp:oauth-state:v1', 32));
    this.current = derive(current);
    this.keys = [this.current, ...previous.map(derive)];
  }

  /** A fresh state: its id (the row's key) and the signed form that goes into the link. */
  issue(): { id: string; state: string } {
    const id = randomBytes(18).toString('base64url');
    return { id, state: `${id}.${this.mac(this.current, id)}` };
  }

  /** The id of a state this vault signed, or undefined. */
  verify(state: string): string | undefined {
    const dot = state.indexOf('.');
    if (dot <= 0) return undefined;
    const id = state.slice(0, dot);
    const given = Buffer.from(state.slice(dot + 1), 'utf8');
    for (const key of this.keys) {
      const expected = Buffer.from(this.mac(key, id), 'utf8');
      if (given.length === expected.length && timingSafeEqual(given, expected)) return id;
    }
    return undefined;
  }

  private mac(key: Buffer, id: string): string {
    return createHmac('sha256', key).update(`state|${id}`).digest('base64url');
  }
}
