import { VmcpError } from '@vmcp/contracts';
import { additionalData, DecryptError } from '../crypto/aes-gcm.crypto.js';
import { UnknownKeyEncryptionKeyError, type KeyEncryptionKeyProvider } from './key-encryption-key.provider.js';

/** Additional data of a wrapped data key: a key row copied to another tenant or version cannot unwrap. */
export function dataKeyAad(tenantId: string, version: number): string {
  return additionalData('vmcp:dek:v1', [tenantId, version]);
}

/**
 * A tenant's data key exists but cannot be unwrapped: it does not authenticate, or the
 * master key that wrapped it is not loaded. Names the keys, never their bytes.
 */
export class DataKeyUnwrapError extends VmcpError {
  constructor(
    readonly tenantId: string,
    readonly version: number,
    /** Set when the wrapping master key is missing, rather than the data not authenticating. */
    readonly missingKekId?: string,
  ) {
    super(
      'FAILED_PRECONDITION',
      missingKekId
        ? `data key v${version} of tenant ${tenantId} cannot be unwrapped: it is wrapped by master key ${missingKekId}, which this vault does not hold (keep it in VMCP_MASTER_KEY_PREVIOUS until a master-key rotation has completed)`
        : `data key v${version} of tenant ${tenantId} cannot be unwrapped (wrong master key, tenant or version, or tampered key data)`,
    );
  }
}

export function wrapDataKey(kek: KeyEncryptionKeyProvider, tenantId: string, version: number, dataKey: Buffer): Promise<Buffer> {
  return kek.wrap(dataKey, dataKeyAad(tenantId, version));
}

/** Unwraps a data key with the master key `kekId` that wrapped it (the row's kek_id). */
export async function unwrapDataKey(
  kek: KeyEncryptionKeyProvider,
  tenantId: string,
  version: number,
  wrapped: Buffer,
  kekId: string,
): Promise<Buffer> {
  try {
    return await kek.unwrap(wrapped, dataKeyAad(tenantId, version), kekId);
  } catch (err) {
    // A KMS outage is not tampering: only an authentication failure gets the clear error.
    if (err instanceof DecryptError) throw new DataKeyUnwrapError(tenantId, version);
    if (err instanceof UnknownKeyEncryptionKeyError) throw new DataKeyUnwrapError(tenantId, version, err.kekId);
    throw err;
  }
}
