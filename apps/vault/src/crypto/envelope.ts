import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class DecryptError extends Error {
  override name = 'DecryptError';
}

export interface Sealed {
  /** 12 random bytes, fresh for every encryption. */
  readonly nonce: Buffer;
  /** Ciphertext followed by the 16-byte GCM tag. */
  readonly ciphertext: Buffer;
}

/** AES-256-GCM with a fresh nonce; `aad` binds the ciphertext to its context. */
export function seal(key: Buffer, plaintext: Buffer, aad: string): Sealed {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, ciphertext: Buffer.concat([body, cipher.getAuthTag()]) };
}

/** Opens what `seal` made; any change to key, nonce, ciphertext, tag or aad fails. */
export function open(key: Buffer, sealed: Sealed, aad: string): Buffer {
  if (sealed.nonce.length !== NONCE_BYTES || sealed.ciphertext.length < TAG_BYTES) throw new DecryptError('malformed ciphertext');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(sealed.ciphertext.subarray(sealed.ciphertext.length - TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.ciphertext.subarray(0, sealed.ciphertext.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new DecryptError('authentication failed');
  }
}

/** Additional data of a tenant data key wrapped by the key-encryption key. */
export function dataKeyAad(tenantId: string, version: number): string {
  return `vmcp:dek:v1|${tenantId}|${version}`;
}

/** Additional data of a credential: a row copied to another tenant or account cannot open. */
export function credentialAad(tenantId: string, accountId: string, keyVersion: number): string {
  return `vmcp:cred:v1|${tenantId}|${accountId}|${keyVersion}`;
}
