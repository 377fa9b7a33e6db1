import { randomBytes } from 'node:crypto';
import type { StaticAuth } from '@vmcp/contracts';
import { describe, expect, it } from 'vitest';
import { seal, type Sealed } from '../crypto/aes-gcm.crypto.js';
import { credentialAad, openCredential, sealCredential, type CredentialBinding } from './credential.crypto.js';

const SECRET = 'tok-9f3c1d7e-plaintext';

function failure(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a failure');
}

describe('credential encryption', () => {
  const key = randomBytes(32);
  const binding: CredentialBinding = { tenantId: 'ten_aaaaaaaa', accountId: 'ca_11111111', keyVersion: 1, authType: 'bearer_token' };
  const secret: StaticAuth = { token: SECRET };
  const unreadable = {
    code: 'FAILED_PRECONDITION',
    message: 'credential for account ca_11111111 cannot be decrypted (wrong tenant, account or key version, or tampered data)',
  };
  const copy = (s: Sealed) => ({ nonce: Buffer.from(s.nonce), ciphertext: Buffer.from(s.ciphertext) });

  it('round-trips every static credential shape', () => {
    const shapes: Array<[CredentialBinding['authType'], StaticAuth]> = [
      ['bearer_token', { token: SECRET }],
      ['api_key', { api_key: SECRET }],
      ['basic', { username: 'svc', password: SECRET }],
      ['custom_headers', { headers: { 'X-Api-Token': SECRET } }],
    ];
    for (const [authType, value] of shapes) {
      const b = { ...binding, authType };
      expect(openCredential(key, b, sealCredential(key, b, value))).toEqual(value);
    }
  });

  it('binds tenant, account, key version and auth type in the additional data', () => {
    expect(credentialAad(binding)).toBe('vmcp:cred:v1|ten_aaaaaaaa|ca_11111111|1|bearer_token');
  });

  it('seals the same credential differently every time (fresh nonce)', () => {
    const a = sealCredential(key, binding, secret);
    const b = sealCredential(key, binding, secret);
    expect(a.nonce.equals(b.nonce)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.ciphertext.includes(Buffer.from(SECRET))).toBe(false);
  });

  it('refuses tampered ciphertext, nonce or tag with the clear error, naming no secret', () => {
    const sealed = sealCredential(key, binding, secret);
    const body = copy(sealed);
    body.ciphertext[3]! ^= 0x01;
    const nonce = copy(sealed);
    nonce.nonce[0]! ^= 0x01;
    const tag = copy(sealed);
    tag.ciphertext[tag.ciphertext.length - 1]! ^= 0x01;
    for (const bad of [body, nonce, tag]) {
      const err = failure(() => openCredential(key, binding, bad));
      expect(err).toMatchObject(unreadable);
      expect(JSON.stringify({ ...err, message: err.message })).not.toContain(SECRET);
    }
  });

  it('refuses a row moved to another tenant, account, key version or auth type, or opened with another key', () => {
    const sealed = sealCredential(key, binding, secret);
    const elsewhere: CredentialBinding[] = [
      { ...binding, tenantId: 'ten_bbbbbbbb' },
      { ...binding, accountId: 'ca_22222222' },
      { ...binding, keyVersion: 2 },
      { ...binding, authType: 'api_key' },
    ];
    for (const b of elsewhere) expect(failure(() => openCredential(key, b, sealed))).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(failure(() => openCredential(randomBytes(32), binding, sealed))).toMatchObject(unreadable);
  });

  it('refuses authentic bytes that are not a credential of the bound auth type, without echoing them', () => {
    const apiKey = { ...binding, authType: 'api_key' as const };
    const mislabelled = sealCredential(key, apiKey, { token: SECRET });
    const notJson = seal(key, Buffer.from(SECRET), credentialAad(binding));
    for (const [b, sealed] of [[apiKey, mislabelled], [binding, notJson]] as const) {
      const err = failure(() => openCredential(key, b, sealed));
      expect(err).toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringMatching(/is not a valid (api_key|bearer_token) credential/) });
      expect(err.message).not.toContain(SECRET);
    }
  });
});
