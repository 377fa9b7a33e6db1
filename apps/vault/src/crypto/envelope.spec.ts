import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { credentialAad, DecryptError, open, seal } from './envelope.js';

describe('AES-256-GCM envelope', () => {
  const key = randomBytes(32);
  const aad = credentialAad('ten_a', 'ca_1', 1);

  it('round-trips with a fresh nonce every time', () => {
    const a = seal(key, Buffer.from('s3cret'), aad);
    const b = seal(key, Buffer.from('s3cret'), aad);
    expect(a.nonce.equals(b.nonce)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(open(key, a, aad).toString()).toBe('s3cret');
  });

  it('refuses tampered ciphertext, nonce or tag', () => {
    const sealed = seal(key, Buffer.from('s3cret'), aad);
    for (const mutate of [
      (s: { nonce: Buffer; ciphertext: Buffer }) => (s.ciphertext[0]! ^= 1),
      (s: { nonce: Buffer; ciphertext: Buffer }) => (s.nonce[0]! ^= 1),
      (s: { nonce: Buffer; ciphertext: Buffer }) => (s.ciphertext[s.ciphertext.length - 1]! ^= 1),
    ]) {
      const copy = { nonce: Buffer.from(sealed.nonce), ciphertext: Buffer.from(sealed.ciphertext) };
      mutate(copy);
      expect(() => open(key, copy, aad)).toThrow(DecryptError);
    }
  });

  it('binds the ciphertext to tenant, account and key version', () => {
    const sealed = seal(key, Buffer.from('s3cret'), aad);
    expect(() => open(key, sealed, credentialAad('ten_b', 'ca_1', 1))).toThrow(DecryptError);
    expect(() => open(key, sealed, credentialAad('ten_a', 'ca_2', 1))).toThrow(DecryptError);
    expect(() => open(key, sealed, credentialAad('ten_a', 'ca_1', 2))).toThrow(DecryptError);
    expect(() => open(randomBytes(32), sealed, aad)).toThrow(DecryptError);
  });
});
