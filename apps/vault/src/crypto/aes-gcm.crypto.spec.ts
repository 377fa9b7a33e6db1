import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { additionalData, DecryptError, fromColumns, open, seal, toColumns, type Sealed } from './aes-gcm.crypto.js';

describe('AES-256-GCM', () => {
  const key = randomBytes(32);
  const aad = 'vmcp:test|a|1';
  const plaintext = Buffer.from('s3cret-value');
  const copy = (s: Sealed): { nonce: Buffer; ciphertext: Buffer } => ({ nonce: Buffer.from(s.nonce), ciphertext: Buffer.from(s.ciphertext) });

  it('round-trips, also through its base64 columns', () => {
    const sealed = seal(key, plaintext, aad);
    expect(open(key, sealed, aad).equals(plaintext)).toBe(true);
    expect(open(key, fromColumns(toColumns(sealed)), aad).equals(plaintext)).toBe(true);
    expect(sealed.ciphertext.length).toBe(plaintext.length + 16);
  });

  it('draws a fresh 12-byte nonce for every encryption', () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const sealed = seal(key, plaintext, aad);
      expect(sealed.nonce).toHaveLength(12);
      nonces.add(sealed.nonce.toString('hex'));
    }
    expect(nonces.size).toBe(500);
  });

  it('refuses a changed ciphertext, nonce or tag, another key or other additional data', () => {
    const sealed = seal(key, plaintext, aad);
    const body = copy(sealed);
    body.ciphertext[0]! ^= 0x01;
    const nonce = copy(sealed);
    nonce.nonce[11]! ^= 0x80;
    const tag = copy(sealed);
    tag.ciphertext[tag.ciphertext.length - 1]! ^= 0x01;
    const truncated = { nonce: sealed.nonce, ciphertext: sealed.ciphertext.subarray(0, 15) };
    const shortNonce = { nonce: sealed.nonce.subarray(0, 8), ciphertext: sealed.ciphertext };
    for (const bad of [body, nonce, tag, truncated, shortNonce]) expect(() => open(key, bad, aad)).toThrow(DecryptError);
    expect(() => open(randomBytes(32), sealed, aad)).toThrow(DecryptError);
    expect(() => open(key, sealed, 'vmcp:test|a|2')).toThrow(DecryptError);
    expect(() => open(key, fromColumns({ nonce: 'not base64!', ciphertext: '' }), aad)).toThrow(DecryptError);
  });

  it('says nothing about the input when it refuses', () => {
    const sealed = copy(seal(key, plaintext, aad));
    sealed.ciphertext[0]! ^= 0x01;
    const err = (() => {
      try {
        open(key, sealed, aad);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toBe('authenticated decryption failed');
  });

  it('builds unambiguous additional data', () => {
    expect(additionalData('vmcp:cred:v1', ['ten_a', 'ca_b', 1])).toBe('vmcp:cred:v1|ten_a|ca_b|1');
    expect(() => additionalData('x', ['ten_a|ca_b', 1])).toThrow(/free of "\|"/);
    expect(() => additionalData('x', [''])).toThrow();
  });
});
