import { DecryptError, KEY_BYTES, NONCE_BYTES, open, seal } from '../crypto/aes-gcm.crypto.js';

/**
 * The top of the key hierarchy: wraps and unwraps tenant data keys, never sees a
 * credential. The local provider holds VMCP_MASTER_KEY in process memory; a cloud KMS
 * (whose key never leaves it) plugs in behind the same two calls.
 */
export interface KeyEncryptionKeyProvider {
  /** Stored next to every wrapped key, so keys of two providers can coexist while migrating. */
  readonly id: string;
  /** Returns an opaque blob; `aad` must be given again, unchanged, to unwrap it. */
  wrap(dataKey: Buffer, aad: string): Promise<Buffer>;
  /** Throws DecryptError when the blob, the key-encryption key or `aad` does not match. */
  unwrap(wrapped: Buffer, aad: string): Promise<Buffer>;
}

/** Nest injection token of the service's KeyEncryptionKeyProvider. */
export const KEK_PROVIDER = Symbol.for('vmcp.vault.kek-provider');

/** AES-256-GCM under the master key; the blob is nonce ‖ ciphertext ‖ tag. */
export class LocalKeyEncryptionKeyProvider implements KeyEncryptionKeyProvider {
  readonly id = 'local-v1';
  private readonly masterKey: Buffer;

  constructor(masterKey: Buffer) {
    // The config lib already checks this; a wrong size here would mean a wiring bug.
    if (masterKey.length !== KEY_BYTES) throw new Error(`the master key must be ${KEY_BYTES} bytes`);
    // A private copy: the caller's buffer may be reused or zeroed.
    this.masterKey = Buffer.from(masterKey);
  }

  async wrap(dataKey: Buffer, aad: string): Promise<Buffer> {
    const sealed = seal(this.masterKey, dataKey, aad);
    return Buffer.concat([sealed.nonce, sealed.ciphertext]);
  }

  async unwrap(wrapped: Buffer, aad: string): Promise<Buffer> {
    if (wrapped.length <= NONCE_BYTES) throw new DecryptError();
    return open(this.masterKey, { nonce: wrapped.subarray(0, NONCE_BYTES), ciphertext: wrapped.subarray(NONCE_BYTES) }, aad);
  }
}
