import { createHash } from 'node:crypto';
import { DecryptError, KEY_BYTES, NONCE_BYTES, open, seal } from '../crypto/aes-gcm.crypto.js';

/**
 * The top of the key hierarchy: wraps and unwraps tenant data keys, never sees a
 * credential. The local provider holds VMCP_MASTER_KEY in process memory; a cloud KMS
 * (whose key never leaves it) plugs in behind the same calls.
 */
export interface KeyEncryptionKeyProvider {
  /**
   * The key `wrap` uses now. Stored as `kek_id` next to every wrapped key, so keys wrapped
   * by a retired key (or another provider) can coexist with new ones during a rotation.
   */
  readonly id: string;
  /** Returns an opaque blob; `aad` must be given again, unchanged, to unwrap it. */
  wrap(dataKey: Buffer, aad: string): Promise<Buffer>;
  /**
   * Opens a blob that the key `kekId` wrapped. Throws DecryptError when the blob, the key or
   * `aad` does not match, and UnknownKeyEncryptionKeyError when the provider does not hold `kekId`.
   */
  unwrap(wrapped: Buffer, aad: string, kekId: string): Promise<Buffer>;
}

/** Nest injection token of the service's KeyEncryptionKeyProvider. */
export const KEK_PROVIDER = Symbol.for('vmcp.vault.kek-provider');

/** A data key was wrapped by a key-encryption key this process does not hold. */
export class UnknownKeyEncryptionKeyError extends Error {
  override name = 'UnknownKeyEncryptionKeyError';
  constructor(readonly kekId: string) {
    super(`key-encryption key ${kekId} is not loaded`);
  }
}

/**
 * Id of a local master key: `local:` and the first 16 hex digits of its SHA-256, a
 * fingerprint operators can compute themselves (`base64 -d | sha256sum`) and that
 * reveals nothing usable about the key.
 */
export function localKekId(masterKey: Buffer): string {
  return `local:${createHash('sha256').update(masterKey).digest('hex').slice(0, 16)}`;
}

/**
 * A keyring of local master keys, AES-256-GCM, blob = nonce ‖ ciphertext ‖ tag. Wraps with
 * the current key (VMCP_MASTER_KEY); unwraps with whichever key wrapped the row, the current
 * one or a retired one (VMCP_MASTER_KEY_PREVIOUS), so reads keep working during a rotation.
 */
export class LocalKeyEncryptionKeyProvider implements KeyEncryptionKeyProvider {
  readonly id: string;
  private readonly current: Buffer;
  private readonly keys = new Map<string, Buffer>();

  constructor(masterKey: Buffer, previous: readonly Buffer[] = []) {
    for (const key of [masterKey, ...previous]) {
      // The config lib already checks this; a wrong size here would mean a wiring bug.
      if (key.length !== KEY_BYTES) throw new Error(`a master key must be ${KEY_BYTES} bytes`);
    }
    // Private copies: the caller's buffers may be reused or zeroed.
    this.current = Buffer.from(masterKey);
    this.id = localKekId(this.current);
    this.keys.set(this.id, this.current);
    for (const key of previous) {
      const id = localKekId(key);
      if (!this.keys.has(id)) this.keys.set(id, Buffer.from(key));
    }
  }

  /** Ids of every key this ring can unwrap with, the current one first. */
  get ids(): string[] {
    return [...this.keys.keys()];
  }

  async wrap(dataKey: Buffer, aad: string): Promise<Buffer> {
    const sealed = seal(this.current, dataKey, aad);
    return Buffer.concat([sealed.nonce, sealed.ciphertext]);
  }

  async unwrap(wrapped: Buffer, aad: string, kekId: string): Promise<Buffer> {
    const key = this.keys.get(kekId);
    if (!key) throw new UnknownKeyEncryptionKeyError(kekId);
    if (wrapped.length <= NONCE_BYTES) throw new DecryptError();
    return open(key, { nonce: wrapped.subarray(0, NONCE_BYTES), ciphertext: wrapped.subarray(NONCE_BYTES) }, aad);
  }
}
