import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecryptError } from '../crypto/aes-gcm.crypto.js';
import { LocalKeyEncryptionKeyProvider, localKekId, UnknownKeyEncryptionKeyError } from './key-encryption-key.provider.js';

describe('the local master-key ring', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const dataKey = randomBytes(32);

  it('is named by a fingerprint of the key that operators can compute, never by the key', () => {
    const ring = new LocalKeyEncryptionKeyProvider(newKey);
    expect(ring.id).toBe(`local:${createHash('sha256').update(newKey).digest('hex').slice(0, 16)}`);
    expect(ring.id).toBe(localKekId(newKey));
    for (const form of [newKey.toString('hex'), newKey.toString('base64')]) expect(ring.id).not.toContain(form.slice(0, 8));
    expect(localKekId(oldKey)).not.toBe(ring.id);
  });

  it('wraps with the current key and unwraps with whichever key the row names', async () => {
    const before = new LocalKeyEncryptionKeyProvider(oldKey);
    const during = new LocalKeyEncryptionKeyProvider(newKey, [oldKey]);
    expect(during.id).toBe(localKekId(newKey));
    expect(during.ids).toEqual([localKekId(newKey), localKekId(oldKey)]);
    const wrappedOld = await before.wrap(dataKey, 'aad');
    const wrappedNew = await during.wrap(dataKey, 'aad');
    expect((await during.unwrap(wrappedOld, 'aad', before.id)).equals(dataKey)).toBe(true);
    expect((await during.unwrap(wrappedNew, 'aad', during.id)).equals(dataKey)).toBe(true);
    // The new blob really is under the new key: the old ring cannot open it.
    await expect(before.unwrap(wrappedNew, 'aad', during.id)).rejects.toBeInstanceOf(UnknownKeyEncryptionKeyError);
    await expect(during.unwrap(wrappedNew, 'aad', before.id)).rejects.toBeInstanceOf(DecryptError);
  });

  it('says which key it lacks once a retired key is removed', async () => {
    const wrappedOld = await new LocalKeyEncryptionKeyProvider(oldKey).wrap(dataKey, 'aad');
    const after = new LocalKeyEncryptionKeyProvider(newKey);
    const err = await after.unwrap(wrappedOld, 'aad', localKekId(oldKey)).then(
      () => new Error('expected unwrap to fail'),
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(UnknownKeyEncryptionKeyError);
    expect(err.message).toBe(`key-encryption key ${localKekId(oldKey)} is not loaded`);
  });

  it('keeps its own copies of the keys, and refuses a key of the wrong size', async () => {
    const current = Buffer.from(newKey);
    const previous = Buffer.from(oldKey);
    const ring = new LocalKeyEncryptionKeyProvider(current, [previous, Buffer.from(current)]);
    const wrapped = await ring.wrap(dataKey, 'aad');
    current.fill(0);
    previous.fill(0);
    expect((await ring.unwrap(wrapped, 'aad', localKekId(newKey))).equals(dataKey)).toBe(true);
    expect(ring.ids).toHaveLength(2);
    expect(() => new LocalKeyEncryptionKeyProvider(randomBytes(32), [randomBytes(16)])).toThrow(/32 bytes/);
  });
});
