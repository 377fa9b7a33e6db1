import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import * as gcm from '../crypto/aes-gcm.crypto.js';
import { credentialAad, openCredential, resealCredential, sealCredential, storedCredentialBinding, type CredentialBinding } from './credential.crypto.js';

// Re-encryption under a rotated data key works on sealed bytes: it must carry any kind of
// credential (OAuth token sets included) unchanged, and refuse what does not open.

const SECRET = 'reseal-secret-41c7e2';

/** Every plaintext buffer open() handed out, to check that it was zeroed afterwards. */
const opened = vi.hoisted((): Buffer[] => []);
vi.mock('../crypto/aes-gcm.crypto.js', async (original) => {
  const real = await original<typeof import('../crypto/aes-gcm.crypto.js')>();
  return {
    ...real,
    open: (...args: Parameters<typeof real.open>) => {
      const plaintext = real.open(...args);
      opened.push(plaintext);
      return plaintext;
    },
  };
});

describe('moving a credential to another data key', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const binding: CredentialBinding = { tenantId: 'ten_aaaaaaaa', accountId: 'ca_11111111', keyVersion: 1, authType: 'bearer_token' };
  const moved = { ...binding, keyVersion: 2 };

  it('opens under the old key and version and seals the same bytes under the new ones, with a fresh nonce', () => {
    const sealed = sealCredential(oldKey, binding, { token: SECRET });
    const resealed = resealCredential({ key: oldKey, binding, sealed }, { key: newKey, binding: moved });
    expect(resealed.nonce.equals(sealed.nonce)).toBe(false);
    expect(openCredential(newKey, moved, resealed)).toEqual({ token: SECRET });
    // Bound to the new version and key: the old ones no longer open it.
    expect(() => openCredential(oldKey, moved, resealed)).toThrow(/cannot be decrypted/);
    expect(() => openCredential(newKey, binding, resealed)).toThrow(/cannot be decrypted/);
  });

  it('never parses the plaintext: an OAuth token set (or any bytes) moves unchanged', () => {
    const oauth = { ...binding, authType: 'oauth2' as const };
    const tokenSet = Buffer.from(JSON.stringify({ access_token: SECRET, refresh_token: `${SECRET}-r`, expires_at: 1 }));
    const sealed = gcm.seal(oldKey, tokenSet, credentialAad(oauth));
    const resealed = resealCredential({ key: oldKey, binding: oauth, sealed }, { key: newKey, binding: { ...oauth, keyVersion: 2 } });
    expect(gcm.open(newKey, resealed, credentialAad({ ...oauth, keyVersion: 2 })).equals(tokenSet)).toBe(true);
  });

  it('refuses a tampered row or the wrong old key with the clear error, naming no secret', () => {
    const sealed = sealCredential(oldKey, binding, { token: SECRET });
    const tampered = { nonce: sealed.nonce, ciphertext: Buffer.from(sealed.ciphertext) };
    tampered.ciphertext[0]! ^= 0x01;
    for (const attempt of [
      () => resealCredential({ key: oldKey, binding, sealed: tampered }, { key: newKey, binding: moved }),
      () => resealCredential({ key: randomBytes(32), binding, sealed }, { key: newKey, binding: moved }),
      () => resealCredential({ key: oldKey, binding: { ...binding, tenantId: 'ten_bbbbbbbb' }, sealed }, { key: newKey, binding: moved }),
    ]) {
      expect(attempt).toThrow(
        expect.objectContaining({
          code: 'FAILED_PRECONDITION',
          message: 'credential for account ca_11111111 cannot be decrypted (wrong tenant, account or key version, or tampered data)',
        }),
      );
    }
  });

  it('zeroes the plaintext it held', () => {
    const sealed = sealCredential(oldKey, binding, { token: SECRET });
    opened.length = 0;
    const resealed = resealCredential({ key: oldKey, binding, sealed }, { key: newKey, binding: moved });
    expect(opened).toHaveLength(1);
    expect(opened[0]!.length).toBeGreaterThan(SECRET.length);
    expect(opened[0]!.every((b) => b === 0)).toBe(true);
    expect(openCredential(newKey, moved, resealed)).toEqual({ token: SECRET });
  });

  it('reads the binding of a stored row, and refuses an unknown auth type', () => {
    const row = { tenant_id: 'ten_aaaaaaaa', account_id: 'ca_11111111', key_version: 3, auth_type: 'basic' };
    expect(storedCredentialBinding(row)).toEqual({ tenantId: 'ten_aaaaaaaa', accountId: 'ca_11111111', keyVersion: 3, authType: 'basic' });
    expect(storedCredentialBinding({ ...row, auth_type: 'kerberos' })).toBeUndefined();
  });
});
