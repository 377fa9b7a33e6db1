import { randomBytes } from 'node:crypto';
import { loadConfig } from '@vmcp/config';
import { newId } from '@vmcp/contracts';
import { openDataSource, type DataSource } from '@vmcp/persistence';
import { DATABASE_KINDS, databaseEnv } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialsService } from '../src/credentials/credentials.service.js';
import { LocalKeyEncryptionKeyProvider } from '../src/crypto/kek-provider.js';
import { DataKeysService } from '../src/keys/data-keys.service.js';
import { VAULT_ENTITIES, VAULT_MIGRATIONS } from '../src/vault.module.js';

describe.each(DATABASE_KINDS)('vault credentials on %s', (kind) => {
  const db = databaseEnv(kind);
  const config = loadConfig('vault', { ...db.env, NODE_ENV: 'test', VMCP_MASTER_KEY: randomBytes(32).toString('base64') });
  let ds: DataSource;
  let credentials: CredentialsService;
  const tenantA = newId('ten');
  const tenantB = newId('ten');
  const SECRET = 'plain-credential-value-91c2';

  const fresh = () => new CredentialsService(ds, new DataKeysService(ds, new LocalKeyEncryptionKeyProvider(config.masterKey)));

  beforeAll(async () => {
    ds = await openDataSource(config, { entities: VAULT_ENTITIES, migrations: VAULT_MIGRATIONS });
    credentials = fresh();
  });

  afterAll(async () => {
    await ds?.destroy();
    await db.drop();
  });

  it('stores, resolves (also after a restart) and destroys', async () => {
    const account = newId('ca');
    expect(await credentials.store(tenantA, account, 'bearer_token', { token: SECRET })).toBe(1);
    expect(await credentials.resolve(tenantA, account)).toEqual({ auth_type: 'bearer_token', secret: { token: SECRET } });
    expect(await fresh().resolve(tenantA, account)).toEqual({ auth_type: 'bearer_token', secret: { token: SECRET } });
    await credentials.store(tenantA, account, 'bearer_token', { token: `${SECRET}-2` });
    expect((await credentials.resolve(tenantA, account)).secret).toEqual({ token: `${SECRET}-2` });
    expect(await credentials.destroy(tenantA, account)).toBe(true);
    await expect(credentials.resolve(tenantA, account)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await credentials.destroy(tenantA, account)).toBe(false);
  });

  it('keeps no credential bytes in plaintext at rest', async () => {
    const account = newId('ca');
    await credentials.store(tenantA, account, 'basic', { username: 'svc-user', password: SECRET });
    const rows = [
      ...(await ds.query('SELECT * FROM credentials')),
      ...(await ds.query('SELECT * FROM tenant_keys')),
    ];
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(SECRET);
    expect(dump).not.toContain(Buffer.from(SECRET).toString('base64'));
    expect(dump).not.toContain(Buffer.from(SECRET).toString('hex'));
    expect(dump).not.toContain(config.masterKey.toString('base64'));
  });

  it("refuses another tenant's account and a row copied across tenants or accounts", async () => {
    const account = newId('ca');
    await credentials.store(tenantA, account, 'bearer_token', { token: SECRET });
    await credentials.store(tenantB, newId('ca'), 'bearer_token', { token: 'other' }); // B gets a data key
    await expect(credentials.resolve(tenantB, account)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(credentials.store(tenantB, account, 'bearer_token', { token: 'hijack' })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const [row] = (await ds.query(`SELECT * FROM credentials WHERE account_id = '${account}'`)) as Array<Record<string, unknown>>;
    const copyTo = async (tenant: string, acct: string) =>
      ds
        .createQueryBuilder()
        .insert()
        .into('credentials')
        .values({ ...row, tenant_id: tenant, account_id: acct })
        .execute();
    const moved = newId('ca');
    await copyTo(tenantB, moved);
    await expect(credentials.resolve(tenantB, moved)).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringContaining('cannot be decrypted'),
    });
    const sameTenant = newId('ca');
    await copyTo(tenantA, sameTenant);
    await expect(credentials.resolve(tenantA, sameTenant)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
  });

  it('refuses tampered ciphertext with a clear error', async () => {
    const account = newId('ca');
    await credentials.store(tenantA, account, 'api_key', { api_key: SECRET });
    const [row] = (await ds.query(`SELECT ciphertext FROM credentials WHERE account_id = '${account}'`)) as Array<{ ciphertext: string }>;
    const bytes = Buffer.from(row!.ciphertext, 'base64');
    bytes[0]! ^= 0xff;
    await ds.createQueryBuilder().update('credentials').set({ ciphertext: bytes.toString('base64') }).where('account_id = :a', { a: account }).execute();
    const err = await credentials.resolve(tenantA, account).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(String((err as Error).message)).not.toContain(SECRET);
  });
});
