import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DataKeyUnwrapError, dataKeyAad, unwrapDataKey, wrapDataKey } from './data-key.crypto.js';
import { LocalKeyEncryptionKeyProvider, type KeyEncryptionKeyProvider } from './key-encryption-key.provider.js';

describe('tenant data keys wrapped by the key-encryption key', () => {
  const kek = new LocalKeyEncryptionKeyProvider(randomBytes(32));
  const dataKey = randomBytes(32);

  it('unwraps for the same tenant and version, and the blob does not contain the key', async () => {
    const wrapped = await wrapDataKey(kek, 'ten_a', 1, dataKey);
    expect((await unwrapDataKey(kek, 'ten_a', 1, wrapped, kek.id)).equals(dataKey)).toBe(true);
    expect(wrapped.includes(dataKey)).toBe(false);
    expect(wrapped).toHaveLength(12 + 32 + 16);
    expect(dataKeyAad('ten_a', 1)).toBe('vmcp:dek:v1|ten_a|1');
  });

  it('refuses a key unwrapped under another tenant or version, another master key, or a changed blob', async () => {
    const wrapped = await wrapDataKey(kek, 'ten_a', 1, dataKey);
    const tampered = Buffer.from(wrapped);
    tampered[20]! ^= 0x01;
    const attempts = [
      unwrapDataKey(kek, 'ten_b', 1, wrapped, kek.id),
      unwrapDataKey(kek, 'ten_a', 2, wrapped, kek.id),
      unwrapDataKey(kek, 'ten_a', 1, tampered, kek.id),
      unwrapDataKey(kek, 'ten_a', 1, wrapped.subarray(0, 12), kek.id),
    ];
    for (const attempt of attempts) await expect(attempt).rejects.toBeInstanceOf(DataKeyUnwrapError);
    const err = await unwrapDataKey(kek, 'ten_b', 1, wrapped, kek.id).catch((e: DataKeyUnwrapError) => e);
    expect(err).toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: 'data key v1 of tenant ten_b cannot be unwrapped (wrong master key, tenant or version, or tampered key data)',
    });
  });

  it('refuses a key wrapped by another master key, naming the missing key, or by a key with the same id that differs', async () => {
    const wrapped = await wrapDataKey(kek, 'ten_a', 1, dataKey);
    const stranger = new LocalKeyEncryptionKeyProvider(randomBytes(32));
    const err = await unwrapDataKey(stranger, 'ten_a', 1, wrapped, kek.id).catch((e: DataKeyUnwrapError) => e);
    expect(err).toBeInstanceOf(DataKeyUnwrapError);
    expect(err).toMatchObject({
      code: 'FAILED_PRECONDITION',
      missingKekId: kek.id,
      message: expect.stringContaining(`wrapped by master key ${kek.id}, which this vault does not hold (keep it in VMCP_MASTER_KEY_PREVIOUS`),
    });
    // A row whose kek_id was changed to the stranger's own id still does not authenticate.
    await expect(unwrapDataKey(stranger, 'ten_a', 1, wrapped, stranger.id)).rejects.toMatchObject({ missingKekId: undefined, code: 'FAILED_PRECONDITION' });
  });

  it('passes a provider outage through as it is, not as tampering', async () => {
    const down: KeyEncryptionKeyProvider = {
      id: 'kms-test',
      wrap: async () => Buffer.alloc(0),
      unwrap: async () => {
        throw new Error('kms unreachable');
      },
    };
    await expect(unwrapDataKey(down, 'ten_a', 1, Buffer.alloc(60), 'kms-test')).rejects.toThrow('kms unreachable');
  });

  it('accepts only a 32-byte master key, and keeps its own copy of it', async () => {
    expect(() => new LocalKeyEncryptionKeyProvider(randomBytes(16))).toThrow(/32 bytes/);
    const master = randomBytes(32);
    const local = new LocalKeyEncryptionKeyProvider(master);
    const wrapped = await wrapDataKey(local, 'ten_a', 1, dataKey);
    master.fill(0);
    expect((await unwrapDataKey(local, 'ten_a', 1, wrapped, local.id)).equals(dataKey)).toBe(true);
  });
});
