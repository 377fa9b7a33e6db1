import { randomBytes } from 'node:crypto';
import { newId } from '@vmcp/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVaultFixture, type VaultFixture } from '../../test/vault-fixture.js';
import { wrapDataKey } from './data-key.crypto.js';
import { DataKeysService } from './data-keys.service.js';
import { LocalKeyEncryptionKeyProvider, type KeyEncryptionKeyProvider } from './key-encryption-key.provider.js';

/** Counts calls, so the tests can see what the cache saves. */
function counting(inner: KeyEncryptionKeyProvider) {
  const calls = { wrap: 0, unwrap: 0 };
  const kek: KeyEncryptionKeyProvider = {
    id: inner.id,
    wrap: (key, aad) => (calls.wrap++, inner.wrap(key, aad)),
    unwrap: (blob, aad, kekId) => (calls.unwrap++, inner.unwrap(blob, aad, kekId)),
  };
  return { kek, calls };
}

describe('per-tenant data keys (SQLite)', () => {
  let f: VaultFixture;
  let local: LocalKeyEncryptionKeyProvider;

  beforeAll(async () => {
    f = await openVaultFixture('sqlite');
    local = new LocalKeyEncryptionKeyProvider(f.config.masterKey);
  });
  afterAll(() => f?.close());

  const rowsOf = (tenant: string) => f.rows('tenant_keys', { tenant_id: tenant });

  it("creates version 1 lazily, on the tenant's first use, and only once under concurrency", async () => {
    const tenant = newId('ten');
    expect(await rowsOf(tenant)).toEqual([]);
    const { kek, calls } = counting(local);
    const keys = new DataKeysService(f.ds, kek);
    const all = await Promise.all([keys.current(tenant), keys.current(tenant), keys.current(tenant)]);
    expect(new Set(all.map((k) => k.key.toString('hex'))).size).toBe(1);
    expect(all[0]).toMatchObject({ version: 1 });
    expect(calls.wrap).toBe(1);
    const rows = await rowsOf(tenant);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ tenant_id: tenant, version: 1, kek_id: local.id });
    expect(local.id).toMatch(/^local:[0-9a-f]{16}$/);
    expect(String(rows[0]!.wrapped_key)).not.toContain(all[0]!.key.toString('base64'));
  });

  it('lets two replicas racing on a first store agree on one key', async () => {
    const tenant = newId('ten');
    const [a, b] = await Promise.all([new DataKeysService(f.ds, local).current(tenant), new DataKeysService(f.ds, local).current(tenant)]);
    expect(a.key.equals(b.key)).toBe(true);
    expect(await rowsOf(tenant)).toHaveLength(1);
  });

  it('unwraps each key once per process, and another replica finds the same key', async () => {
    const tenant = newId('ten');
    const first = await new DataKeysService(f.ds, local).current(tenant);
    const { kek, calls } = counting(local);
    const replica = new DataKeysService(f.ds, kek);
    for (let i = 0; i < 3; i++) {
      expect((await replica.find(tenant, 1))?.equals(first.key)).toBe(true);
      expect((await replica.current(tenant)).key.equals(first.key)).toBe(true);
    }
    expect(calls.unwrap).toBe(1);
    expect(await replica.find(tenant, 2)).toBeUndefined();
    expect(await replica.find(newId('ten'), 1)).toBeUndefined();
  });

  it('uses the newest version for new writes', async () => {
    const tenant = newId('ten');
    const keys = new DataKeysService(f.ds, local);
    await keys.current(tenant);
    const v2 = randomBytes(32);
    await f.insertRow('tenant_keys', {
      tenant_id: tenant,
      version: 2,
      kek_id: local.id,
      wrapped_key: (await wrapDataKey(local, tenant, 2, v2)).toString('base64'),
      created_at: new Date().toISOString(),
    });
    expect(await keys.current(tenant)).toMatchObject({ version: 2, key: v2 });
  });

  it('refuses a key row copied to another tenant, and a wrong master key, with the clear error', async () => {
    const owner = newId('ten');
    const thief = newId('ten');
    await new DataKeysService(f.ds, local).current(owner);
    const [row] = await rowsOf(owner);
    await f.insertRow('tenant_keys', { ...row, tenant_id: thief });
    const keys = new DataKeysService(f.ds, local);
    await expect(keys.current(thief)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringContaining(`tenant ${thief}`) });
    await expect(keys.find(thief, 1)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    const wrongMaster = new DataKeysService(f.ds, new LocalKeyEncryptionKeyProvider(randomBytes(32)));
    await expect(wrongMaster.current(owner)).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringContaining(`wrapped by master key ${local.id}, which this vault does not hold`),
    });
  });

  it('rotates to the next version: new writes use it, the old one still opens, racing rotations make one version', async () => {
    const tenant = newId('ten');
    const keys = new DataKeysService(f.ds, local);
    await expect(keys.rotate(tenant)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', message: `tenant ${tenant} has no data key yet: one is created with its first credential` });
    const v1 = await keys.current(tenant);
    const v2 = await keys.rotate(tenant);
    expect(v2.version).toBe(2);
    expect(v2.key.equals(v1.key)).toBe(false);
    // Another replica (its own cache) sees the new version at once, and still opens the old.
    const replica = new DataKeysService(f.ds, local);
    expect((await replica.current(tenant)).key.equals(v2.key)).toBe(true);
    expect((await replica.find(tenant, 1))?.equals(v1.key)).toBe(true);
    const results = await Promise.allSettled([keys.rotate(tenant), replica.rotate(tenant)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'ALREADY_EXISTS' } });
    expect((await rowsOf(tenant)).map((r) => Number(r.version)).sort()).toEqual([1, 2, 3]);
  });
});
