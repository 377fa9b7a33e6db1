import { open, seal, type Sealed } from './envelope.js';

/**
 * Wraps and unwraps tenant data keys. The local provider uses VMCP_MASTER_KEY; a cloud
 * KMS plugs in behind the same two calls.
 */
export interface KeyEncryptionKeyProvider {
  readonly id: string;
  wrap(dataKey: Buffer, aad: string): Promise<Sealed>;
  unwrap(wrapped: Sealed, aad: string): Promise<Buffer>;
}

export const KEK_PROVIDER = Symbol.for('vmcp.vault.kek');

export class LocalKeyEncryptionKeyProvider implements KeyEncryptionKeyProvider {
  readonly id = 'local';

  constructor(private readonly masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('master key must be 32 bytes');
  }

  async wrap(dataKey: Buffer, aad: string): Promise<Sealed> {
    return seal(this.masterKey, dataKey, aad);
  }

  async unwrap(wrapped: Sealed, aad: string): Promise<Buffer> {
    return open(this.masterKey, wrapped, aad);
  }
}
