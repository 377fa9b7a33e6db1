import { randomBytes } from 'node:crypto';
import { newId } from '@vmcp/contracts';
import { DATABASE_KINDS } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyEncryptionKeyProvider } from '../src/keys/key-encryption-key.provider.js';
import { openVaultFixture, type VaultControllers, type VaultFixture } from './vault-fixture.js';

// The vault's tables as someone with database access sees them, on both databases:
// nothing readable at rest, and rows moved around by SQL do not decrypt.

const SECRET = 'persisted-secret-c4e8a1f09b';

/** Every way the secret could show up in a text dump. */
function encodings(value: string | Buffer): string[] {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
  return [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'), ...(Buffer.isBuffer(value) ? [] : [value])];
}

describe.each(DATABASE_KINDS)('vault credentials at rest on %s', (kind) => {
  let f: VaultFixture;
  let v: VaultControllers;
  const tenantA = newId('ten');
  const tenantB = newId('ten');

  beforeAll(async () => {
    f = await openVaultFixture(kind);
    v = f.replica();
    // B has a data key of its own, so a row moved to B meets a real key, not a missing one.
    await v.store({ tenant_id: tenantB, account_id: newId('ca'), auth_type: 'bearer_token', secret: { token: 'b-token' } });
  });
  afterAll(() => f?.close());

  async function store(tenant: string, secret: object = { token: SECRET }, authType = 'bearer_token'): Promise<string> {
    const account = newId('ca');
    expect(await v.store({ tenant_id: tenant, account_id: account, auth_type: authType, secret })).toMatchObject({ stored: true, key_version: 1 });
    return account;
  }

  const unreadable = (account: string) => ({
    error: {
      code: 'FAILED_PRECONDITION',
      message: `credential for account ${account} cannot be decrypted (wrong tenant, account or key version, or tampered data)`,
    },
  });

  it('stores, resolves (also on a freshly started replica), replaces and destroys', async () => {
    const account = await store(tenantA);
    const expected = { auth_type: 'bearer_token', secret: { token: SECRET } };
    expect(await v.resolve({ tenant_id: tenantA, account_id: account })).toEqual(expected);
    expect(await f.replica().resolve({ tenant_id: tenantA, account_id: account })).toEqual(expected);
    await v.store({ tenant_id: tenantA, account_id: account, auth_type: 'basic', secret: { username: 'u', password: `${SECRET}-2` } });
    expect(await f.replica().resolve({ tenant_id: tenantA, account_id: account })).toEqual({
      auth_type: 'basic',
      secret: { username: 'u', password: `${SECRET}-2` },
    });
    expect(await f.rows('credentials', { account_id: account })).toHaveLength(1);
    expect(await v.destroy({ tenant_id: tenantA, account_id: account })).toEqual({ destroyed: true });
    expect(await f.rows('credentials', { account_id: account })).toEqual([]);
    expect(await v.resolve({ tenant_id: tenantA, account_id: account })).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('keeps no secret, data key or master key bytes readable at rest', async () => {
    const secrets = [
      { token: SECRET },
      { api_key: SECRET },
      { username: 'svc', password: SECRET },
      { headers: { 'X-Secret': SECRET } },
    ];
    const types = ['bearer_token', 'api_key', 'basic', 'custom_headers'];
    for (const [i, secret] of secrets.entries()) await store(tenantA, secret, types[i]);
    const dataKey = (await v.keys.current(tenantA)).key;
    const dump = JSON.stringify([...(await f.rows('credentials')), ...(await f.rows('tenant_keys'))]);
    expect(dump).toContain(tenantA); // the dump is real: it has the rows
    const forbidden = [
      ...encodings(SECRET),
      ...secrets.flatMap((s) => encodings(JSON.stringify(s))),
      ...encodings(dataKey),
      ...encodings(f.config.masterKey),
    ];
    for (const form of forbidden) expect(dump).not.toContain(form);
  });

  it('refuses a row copied to another tenant or another account', async () => {
    const account = await store(tenantA);
    const [row] = await f.rows('credentials', { account_id: account });
    const copies = [
      { tenant_id: tenantB, account_id: newId('ca') }, // another tenant, which has a data key
      { tenant_id: newId('ten'), account_id: newId('ca') }, // another tenant, without one
      { tenant_id: tenantA, account_id: newId('ca') }, // same tenant, another account
    ];
    for (const target of copies) {
      await f.insertRow('credentials', { ...row, ...target });
      expect(await f.replica().resolve(target)).toEqual(unreadable(target.account_id));
    }
    // The original is untouched by all this.
    expect(await v.resolve({ tenant_id: tenantA, account_id: account })).toMatchObject({ secret: { token: SECRET } });
  });

  it("refuses a row moved to another tenant together with its tenant's data key", async () => {
    const account = await store(tenantA);
    const thief = newId('ten');
    for (const key of await f.rows('tenant_keys', { tenant_id: tenantA })) await f.insertRow('tenant_keys', { ...key, tenant_id: thief });
    await f.updateRows('credentials', { tenant_id: thief }, { account_id: account });
    f.logs.length = 0;
    expect(await f.replica().resolve({ tenant_id: thief, account_id: account })).toEqual(unreadable(account));
    // Refused already at the key layer: the wrapped data key is bound to its tenant.
    expect(f.logs.join('')).toContain('data key cannot be unwrapped');
  });

  it('refuses tampered ciphertext, nonce or key version, naming no secret', async () => {
    const flip = (b64: unknown, at: number) => {
      const bytes = Buffer.from(String(b64), 'base64');
      bytes[at]! ^= 0x01;
      return bytes.toString('base64');
    };
    const tampers = [
      (row: Record<string, unknown>) => ({ ciphertext: flip(row.ciphertext, 0) }),
      (row: Record<string, unknown>) => ({ ciphertext: flip(row.ciphertext, Buffer.from(String(row.ciphertext), 'base64').length - 1) }),
      (row: Record<string, unknown>) => ({ nonce: flip(row.nonce, 5) }),
      () => ({ key_version: 2 }),
    ];
    for (const tamper of tampers) {
      const account = await store(tenantA);
      const [row] = await f.rows('credentials', { account_id: account });
      await f.updateRows('credentials', tamper(row!), { account_id: account });
      const reply = await f.replica().resolve({ tenant_id: tenantA, account_id: account });
      expect(reply).toEqual(unreadable(account));
    }
  });

  it('cannot be read by a vault started with another master key', async () => {
    const account = await store(tenantA);
    const stranger = f.replica(new LocalKeyEncryptionKeyProvider(randomBytes(32)));
    expect(await stranger.resolve({ tenant_id: tenantA, account_id: account })).toEqual(unreadable(account));
    expect(await stranger.store({ tenant_id: tenantA, account_id: newId('ca'), auth_type: 'api_key', secret: { api_key: 'x' } })).toMatchObject({
      error: { code: 'FAILED_PRECONDITION', message: expect.stringContaining(`data key v1 of tenant ${tenantA} cannot be unwrapped`) },
    });
  });
});
