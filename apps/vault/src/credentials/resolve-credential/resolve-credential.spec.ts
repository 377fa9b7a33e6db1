import { randomBytes } from 'node:crypto';
import { newId } from '@vmcp/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVaultFixture, type VaultControllers, type VaultFixture } from '../../../test/vault-fixture.js';
import { LocalKeyEncryptionKeyProvider } from '../../keys/key-encryption-key.provider.js';

const SECRET = 'resolve-spec-secret-5b21';

describe('resolve a credential', () => {
  let f: VaultFixture;
  let v: VaultControllers;
  let tenant: string;

  beforeAll(async () => {
    f = await openVaultFixture('sqlite');
    v = f.replica();
    tenant = newId('ten');
  });
  afterAll(() => f?.close());

  async function stored(secret: object = { username: 'svc', password: SECRET }, authType = 'basic'): Promise<string> {
    const account = newId('ca');
    expect(await v.store({ tenant_id: tenant, account_id: account, auth_type: authType, secret })).toMatchObject({ stored: true });
    return account;
  }

  it('returns the auth type and the secret, also from a freshly started replica', async () => {
    const account = await stored();
    const expected = { auth_type: 'basic', secret: { username: 'svc', password: SECRET } };
    expect(await v.resolve({ tenant_id: tenant, account_id: account })).toEqual(expected);
    expect(await f.replica().resolve({ tenant_id: tenant, account_id: account })).toEqual(expected);
  });

  it("is NOT_FOUND for an unknown account and for another tenant's account", async () => {
    const account = await stored();
    const unknown = newId('ca');
    expect(await v.resolve({ tenant_id: tenant, account_id: unknown })).toEqual({
      error: { code: 'NOT_FOUND', message: `no credential stored for account ${unknown}` },
    });
    expect(await v.resolve({ tenant_id: newId('ten'), account_id: account })).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('fails clearly under another master key, and logs why without the secret', async () => {
    const account = await stored();
    f.logs.length = 0;
    const reply = await f.replica(new LocalKeyEncryptionKeyProvider(randomBytes(32))).resolve({ tenant_id: tenant, account_id: account });
    expect(reply).toEqual({
      error: {
        code: 'FAILED_PRECONDITION',
        message: `credential for account ${account} cannot be decrypted (wrong tenant, account or key version, or tampered data)`,
      },
    });
    expect(f.logs.join('')).toContain('data key cannot be unwrapped');
    expect(f.logs.join('')).toContain(account);
  });

  it('fails clearly when the row was tampered with: bytes, key version or auth type', async () => {
    const tampers: Array<(row: Record<string, unknown>) => Record<string, unknown>> = [
      (row) => ({ ciphertext: flipFirstByte(String(row.ciphertext)) }),
      (row) => ({ nonce: flipFirstByte(String(row.nonce)) }),
      () => ({ key_version: 7 }),
      () => ({ auth_type: 'api_key' }),
      () => ({ auth_type: 'telepathy' }),
    ];
    for (const tamper of tampers) {
      const account = await stored();
      const [row] = await f.rows('credentials', { account_id: account });
      await f.updateRows('credentials', tamper(row!), { account_id: account });
      const reply = await v.resolve({ tenant_id: tenant, account_id: account });
      expect(reply).toMatchObject({ error: { code: 'FAILED_PRECONDITION', message: expect.stringContaining('cannot be decrypted') } });
      expect(JSON.stringify(reply)).not.toContain(SECRET);
    }
  });

  it('never writes a secret to the log, whatever happens', async () => {
    f.logs.length = 0;
    const account = await stored({ token: SECRET }, 'bearer_token');
    await v.resolve({ tenant_id: tenant, account_id: account });
    await f.updateRows('credentials', { key_version: 9 }, { account_id: account });
    await v.resolve({ tenant_id: tenant, account_id: account });
    expect(f.logs.length).toBeGreaterThan(0);
    const logged = f.logs.join('');
    for (const form of [SECRET, Buffer.from(SECRET).toString('base64'), Buffer.from(SECRET).toString('hex')]) expect(logged).not.toContain(form);
  });

  it('refuses a malformed request', async () => {
    expect(await v.resolve({ tenant_id: tenant })).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    expect(await v.resolve({ tenant_id: tenant, account_id: 'ca_x', more: 1 })).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  });
});

function flipFirstByte(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0]! ^= 0xff;
  return bytes.toString('base64');
}
