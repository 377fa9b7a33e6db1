import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Authentication failed: wrong key, wrong additional data, or changed bytes. Deliberately
 * carries no detail, so nothing about the input can leak through a message.
 */
export class DecryptError extends Error {
  override name = 'DecryptError';
  constructor() {
    super('authenticated decryption failed');
  }
}

export interface Sealed {
  /** 12 random bytes, fresh for every encryption: a GCM nonce must never repeat under one key. */
  readonly nonce: Buffer;
  /** Ciphertext followed by the 16-byte GCM tag. */
  readonly ciphertext: Buffer;
}

/** The text form of `Sealed` kept in the database: base64 is portable across SQLite and PostgreSQL. */
export interface SealedColumns {
  readonly nonce: string;
  readonly ciphertext: string;
}

/** AES-256-GCM with a fresh random nonce; `aad` binds the ciphertext to the context it belongs to. */
export function seal(key: Buffer, plaintext: Buffer, aad: string): Sealed {
  if (key.length !== KEY_BYTES) throw new Error(`AES-256-GCM needs a ${KEY_BYTES}-byte key`);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, ciphertext: Buffer.concat([body, cipher.getAuthTag()]) };
}

/** Opens what `seal` made; any change to key, nonce, ciphertext, tag or `aad` throws DecryptError. */
export function open(key: Buffer, sealed: Sealed, aad: string): Buffer {
  const { nonce, ciphertext } = sealed;
  // Length checks first: Node accepts other nonce and tag sizes, which would weaken GCM.
  if (key.length !== KEY_BYTES || nonce.length !== NONCE_BYTES || ciphertext.length < TAG_BYTES) throw new DecryptError();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES));
    // The pieces hold plaintext too (even when the tag then fails): only the returned
    // buffer, which the caller zeroes, outlives this call.
    const body = decipher.update(ciphertext.subarray(0, ciphertext.length - TAG_BYTES));
    try {
      const tail = decipher.final();
      const plaintext = Buffer.concat([body, tail]);
      tail.fill(0);
      return plaintext;
    } finally {
      body.fill(0);
    }
  } catch {
    throw new DecryptError();
  }
}

export function toColumns(sealed: Sealed): SealedColumns {
  return { nonce: sealed.nonce.toString('base64'), ciphertext: sealed.ciphertext.toString('base64') };
}

/** Never throws: a damaged value simply fails authentication in `open`. */
export function fromColumns(columns: SealedColumns): Sealed {
  return { nonce: Buffer.from(columns.nonce, 'base64'), ciphertext: Buffer.from(columns.ciphertext, 'base64') };
}

/**
 * Additional data from labelled parts, e.g. `vmcp:cred:v1|ten_…|ca_…|1`. The separator
 * may not occur in a part, so two different contexts can never produce the same string.
 */
export function additionalData(label: string, parts: ReadonlyArray<string | number>): string {
  for (const part of parts) {
    const text = String(part);
    if (text.length === 0 || text.includes('|')) throw new Error(`${label}: additional-data parts must be non-empty and free of "|"`);
  }
  return [label, ...parts].join('|');
}
