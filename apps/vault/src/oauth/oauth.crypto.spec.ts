import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openTokenSet, sealTokenSet, StateSigner } from './oauth.crypto.js';

describe('StateSigner', () => {
  it('verifies its own states, and those of the previous master key after a rotation', () => {
    const old = randomBytes(32);
    const { id, state } = new StateSigner(old).issue();
    expect(new StateSigner(old).verify(state)).toBe(id);
    const rotated = new StateSigner(randomBytes(32), [old]);
    expect(rotated.verify(state)).toBe(id);
    expect(new StateSigner(randomBytes(32)).verify(state)).toBeUndefined();
  });

  it('refuses altered, truncated and foreign states', () => {
    const signer = new StateSigner(randomBytes(32));
    const { id, state } = signer.issue();
    const mac = state.slice(id.length + 1);
    for (const bad of [`${id}.`, `.${mac}`, id, `${id}x.${mac}`, `${id}.${mac.slice(1)}`, `${id}.${mac}A`, state.replace('.', ''), '']) {
      expect(signer.verify(bad)).toBeUndefined();
    }
    // Two states never share an id.
    expect(signer.issue().id).not.toBe(id);
  });
});

describe('OAuth token sets', () => {
  it('seal under the credential binding: another account, tenant or auth type cannot open them', () => {
    const key = randomBytes(32);
    const binding = { tenantId: 'ten_a', accountId: 'ca_1', keyVersion: 1, authType: 'oauth2' as const };
    const tokens = { access_token: 'at-secret-123456', refresh_token: 'rt-secret-654321', token_type: 'bearer' };
    const sealed = sealTokenSet(key, binding, tokens);
    expect(sealed.ciphertext.toString('latin1')).not.toContain('at-secret');
    expect(openTokenSet(key, binding, sealed)).toEqual(tokens);
    for (const other of [{ ...binding, accountId: 'ca_2' }, { ...binding, tenantId: 'ten_b' }, { ...binding, keyVersion: 2 }, { ...binding, authType: 'bearer_token' as const }]) {
      expect(() => openTokenSet(key, other, sealed)).toThrow(/cannot be decrypted/);
    }
  });
});
