import { VmcpError } from '@vmcp/contracts';
import { additionalData, DecryptError } from '../crypto/aes-gcm.crypto.js';
import type { KeyEncryptionKeyProvider } from './key-encryption-key.provider.js';

/** Additional data of a wrapped data key: a key row copied to another tenant or version cannot unwrap. */
export function dataKeyAad(tenantId: string, version: number): string {
  return additionalData('vmcp:dek:v1', [tenantId, version]);
}

/** A tenant's data key exists but cannot be unwrapped. Names the key, never its bytes. */
export class DataKeyUnwrapError extends VmcpError {
  constructor(
    readonly tenantId: string,
    readonly version: number,
  ) {
    super(
      'FAILED_PRECONDITION',
      `data key v${version} of tenant ${tenantId} cannot be unwrapped (wrong master key, tenant or version, or tampered key data)`,
    );
  }
}

export function wrapDataKey(kek: KeyEncryptionKeyProvider, tenantId: string, version: number, dataKey: Buffer): Promise<Buffer> {
  return kek.wrap(dataKey, dataKeyAad(tenantId, version));
}

export async function unwrapDataKey(kek: KeyEncryptionKeyProvider, tenantId: string, version: number, wrapped: Buffer): Promise<Buffer> {
  try {
    return await kek.unwrap(wrapped, dataKeyAad(tenantId, version));
  } catch (err) {
    // A KMS outage is not tampering: only an authentication failure gets the clear error.
    if (err instanceof DecryptError) throw new DataKeyUnwrapError(tenantId, version);
    throw err;
  }
}
