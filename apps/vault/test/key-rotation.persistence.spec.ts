import { randomBytes } from 'node:crypto';
import { newId } from '@vmcp/contracts';
import { nowIso } from '@vmcp/persistence';
import { DATABASE_KINDS, waitFor } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toColumns } from '../src/crypto/aes-gcm.crypto.js';
import { sealCredential } from '../src/credentials/credential.crypto.js';
import { unwrapDataKey, wrapDataKey } from '../src/keys/data-key.crypto.js';
import { DataKeysService } from '../src/keys/data-keys.service.js';
import { LocalKeyEncryptionKeyProvider, localKekId } from '../src/keys/key-encryption-key.provider.js';
import { rotationOf, rotationReplica } from './key-rotation-fixture.js';
import { openVaultFixture, type Row, type VaultControllers, type VaultFixture } from './vault-fixture.js';

// Key rotation on both databases, as an operator runs it: reads keep working before,
// during and after; nothing is readable at rest; a job stopped half-way is finished by
// another replica; a store racing the job is never overwritten.

const SECRET = 'rotation-secret-9e04d1c2';

/** Every text form the secret (or a key) could take in a database dump. */
function encodings(value: string | Buffer): string[] {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
  return [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'), ...(Buffer.isBuffer(value) ? [] : [value])];
}

/** The raw rows as text, plus the base64 columns decoded: neither may contain a secret. */
async function dump(f: VaultFixture): Promise<string> {
  const rows = [...(await f.rows('credentials')), ...(await f.rows('tenant_keys')), ...(await f.rows('key_rotations'))];
  const decoded = rows.flatMap((r) => [r.ciphertext, r.nonce, r.wrapped_key].filter(Boolean).map((v) => Buffer.from(String(v), 'base64').toString('latin1')));
  return JSON.stringify(rows) + decoded.join('\n');
}

const unreadable = (account: string) => ({
  error: { code: 'FAILED_PRECONDITION', message: `credential for account ${account} cannot be decrypted (wrong tenant, account or key version, or tampered data)` },
});

describe.each(DATABASE_KINDS)('master-key rotation on %s', (kind) => {
  let f: VaultFixture;
  const oldMaster = randomBytes(32);
  const newMaster = randomBytes(32);
  const accounts: Array<{ tenant: string; account: string; token: string }> = [];

  beforeAll(async () => {
    f = await openVaultFixture(kind);
    const before = f.replica(new LocalKeyEncryptionKeyProvider(oldMaster));
    for (let t = 0; t < 3; t++) {
      const tenant = newId('ten');
      for (let a = 0; a < 2; a++) {
        const account = newId('ca');
        const token = `${SECRET}-${t}-${a}`;
        expect(await before.store({ tenant_id: tenant, account_id: account, auth_type: 'bearer_token', secret: { token } })).toMatchObject({ stored: true });
        accounts.push({ tenant, account, token });
      }
    }
  });
  afterAll(() => f?.close());

  async function readsAll(v: VaultControllers): Promise<void> {
    for (const { tenant, account, token } of accounts) {
      expect(await v.resolve({ tenant_id: tenant, account_id: account })).toEqual({ auth_type: 'bearer_token', secret: { token } });
    }
  }
  const kekIds = async () => (await f.rows('tenant_keys')).map((r) => String(r.kek_id));

  it('re-wraps every data key in batches; reads work before, during (mixed keys) and after, and once the old key is gone', async () => {
    // The replica after the roll: new key current, old key still loaded.
    const rolled = new LocalKeyEncryptionKeyProvider(newMaster, [oldMaster]);
    const vault = rotationReplica(f, rolled, { settings: { batchSize: 1, leaseMs: 1 } });
    await readsAll(f.replica(rolled));
    expect(new Set(await kekIds())).toEqual(new Set([localKekId(oldMaster)]));

    const started = rotationOf(await vault.startMaster({}));
    expect(started).toMatchObject({ scope: 'master', tenant_id: null, target_kek_id: localKekId(newMaster), status: 'RUNNING', total: 3, done: 0 });

    // One batch at a time, a short lease: each pass picks the job up where the last left it.
    const seen = new Set<string>();
    for (let pass = 0; pass < 50; pass++) {
      await vault.runner.runPending({ abandonAfterBatches: 1 });
      const ids = await kekIds();
      seen.add([...new Set(ids)].sort().join(','));
      await readsAll(f.replica(rolled));
      if (rotationOf(await vault.get({ id: started.id })).status !== 'RUNNING') break;
    }
    expect([...seen].some((s) => s.includes(',')), 'a state with both keys in use').toBe(true);

    expect(rotationOf(await vault.get({ id: started.id }))).toMatchObject({ status: 'COMPLETED', total: 3, done: 3, error: null, finished_at: expect.any(String) });
    expect(new Set(await kekIds())).toEqual(new Set([localKekId(newMaster)]));
    await readsAll(f.replica(new LocalKeyEncryptionKeyProvider(newMaster)));
    // New data keys are wrapped by the new key at once.
    const fresh = newId('ten');
    await f.replica(new LocalKeyEncryptionKeyProvider(newMaster)).store({ tenant_id: fresh, account_id: newId('ca'), auth_type: 'api_key', secret: { api_key: SECRET } });
    expect((await f.rows('tenant_keys', { tenant_id: fresh }))[0]).toMatchObject({ kek_id: localKekId(newMaster) });

    const text = await dump(f);
    expect(text).toContain(accounts[0]!.account); // the dump is real
    for (const form of [...encodings(SECRET), ...encodings(oldMaster), ...encodings(newMaster)]) expect(text).not.toContain(form);
  });

  it('leaves a vault holding only the old key with an error that names the missing key', async () => {
    const stale = f.replica(new LocalKeyEncryptionKeyProvider(oldMaster));
    const { tenant, account } = accounts[0]!;
    f.logs.length = 0;
    expect(await stale.resolve({ tenant_id: tenant, account_id: account })).toEqual(unreadable(account));
    expect(f.logs.join('')).toContain('data key cannot be unwrapped');
  });

  it('fails clearly, naming the key row, on a data key that does not unwrap, and completes once it is dealt with', async () => {
    const current = new LocalKeyEncryptionKeyProvider(newMaster);
    const vault = rotationReplica(f, current);
    const { tenant } = accounts[1]!;
    // The tenant's key as a replica still on the old master key would have written it…
    const [key] = await f.rows('tenant_keys', { tenant_id: tenant });
    const dataKey = await unwrapDataKey(current, tenant, 1, Buffer.from(String(key!.wrapped_key), 'base64'), String(key!.kek_id));
    const oldWrapped = (await wrapDataKey(new LocalKeyEncryptionKeyProvider(oldMaster), tenant, 1, dataKey)).toString('base64');
    // …and then damaged, so the job cannot open it.
    const flipped = Buffer.from(oldWrapped, 'base64');
    flipped[20]! ^= 0x01;
    await f.updateRows('tenant_keys', { wrapped_key: flipped.toString('base64'), kek_id: localKekId(oldMaster) }, { tenant_id: tenant });
    const rolled = rotationReplica(f, new LocalKeyEncryptionKeyProvider(newMaster, [oldMaster]));
    const job = rotationOf(await rolled.startMaster());
    await rolled.runner.runPending();
    const failed = rotationOf(await vault.get({ id: job.id }));
    expect(failed).toMatchObject({
      status: 'FAILED',
      error: `data key v1 of tenant ${tenant} cannot be unwrapped (wrong master key, tenant or version, or tampered key data)`,
    });
    // Reads of that tenant fail with the clear error; other tenants are unaffected.
    expect(await f.replica(current).resolve({ tenant_id: tenant, account_id: accounts[1]!.account })).toEqual(unreadable(accounts[1]!.account));
    expect(await f.replica(current).resolve({ tenant_id: accounts[5]!.tenant, account_id: accounts[5]!.account })).toMatchObject({ secret: { token: accounts[5]!.token } });
    // Put back (as an operator restoring the row would), it goes through on the next run.
    await f.updateRows('tenant_keys', { wrapped_key: oldWrapped, kek_id: localKekId(oldMaster) }, { tenant_id: tenant });
    const again = rotationOf(await rolled.startMaster());
    expect(again.id).not.toBe(job.id);
    await rolled.runner.runPending();
    expect(rotationOf(await vault.get({ id: again.id }))).toMatchObject({ status: 'COMPLETED', total: 1, done: 1 });
    await readsAll(f.replica(current));
  });
});

describe.each(DATABASE_KINDS)('tenant data-key rotation on %s', (kind) => {
  let f: VaultFixture;
  let kek: LocalKeyEncryptionKeyProvider;
  let v: VaultControllers;

  beforeAll(async () => {
    f = await openVaultFixture(kind);
    kek = new LocalKeyEncryptionKeyProvider(f.config.masterKey);
    v = f.replica(kek);
  });
  afterAll(() => f?.close());

  async function tenantWith(n: number, authType = 'bearer_token') {
    const tenant = newId('ten');
    const stored = new Map<string, string>();
    for (let i = 0; i < n; i++) {
      const account = newId('ca');
      const token = `${SECRET}-${tenant}-${i}`;
      const secret = authType === 'basic' ? { username: 'svc', password: token } : { token };
      expect(await v.store({ tenant_id: tenant, account_id: account, auth_type: authType, secret })).toMatchObject({ stored: true, key_version: 1 });
      stored.set(account, token);
    }
    return { tenant, stored };
  }
  async function readsAll(tenant: string, stored: Map<string, string>): Promise<void> {
    const fresh = f.replica(kek);
    for (const [account, token] of stored) {
      expect(await fresh.resolve({ tenant_id: tenant, account_id: account })).toMatchObject({ secret: { token } });
    }
  }
  const versionsOf = async (tenant: string) => (await f.rows('credentials', { tenant_id: tenant })).map((r) => Number(r.key_version)).sort();

  it('uses the new version for new writes at once, and re-encrypts the old rows; another tenant is untouched', async () => {
    const { tenant, stored } = await tenantWith(5);
    const other = await tenantWith(2);
    const before = new Map((await f.rows('credentials', { tenant_id: tenant })).map((r) => [String(r.account_id), r]));
    const vault = rotationReplica(f, kek);
    const job = rotationOf(await vault.startTenant({ tenant_id: tenant }));
    expect(job).toMatchObject({ scope: 'tenant', tenant_id: tenant, target_version: 2, target_kek_id: null, status: 'RUNNING', total: 5, done: 0 });

    const late = newId('ca');
    expect(await v.store({ tenant_id: tenant, account_id: late, auth_type: 'bearer_token', secret: { token: `${SECRET}-late` } })).toEqual({ stored: true, key_version: 2 });
    stored.set(late, `${SECRET}-late`);
    await readsAll(tenant, stored);

    await vault.runner.runPending();
    expect(rotationOf(await vault.get({ id: job.id }))).toMatchObject({ status: 'COMPLETED', total: 5, done: 5 });
    expect(await versionsOf(tenant)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(await versionsOf(other.tenant)).toEqual([1, 1]);
    await readsAll(tenant, stored);
    await readsAll(other.tenant, other.stored);
    // Re-encrypted: new nonce and ciphertext, bound to version 2 (a copy relabelled v1 does not open).
    const [row] = await f.rows('credentials', { account_id: [...before.keys()][0]! });
    expect(row!.nonce).not.toBe(before.get(String(row!.account_id))!.nonce);
    await f.updateRows('credentials', { key_version: 1 }, { account_id: String(row!.account_id) });
    expect(await f.replica(kek).resolve({ tenant_id: tenant, account_id: String(row!.account_id) })).toEqual(unreadable(String(row!.account_id)));
  });

  it("moves the tenant's OAuth client secrets in the same job, and they still open", async () => {
    const { tenant } = await tenantWith(1);
    const connection = newId('conn');
    const client = { client_id: 'app', scopes: [], authorize_url: 'https://auth.example/authorize', token_url: 'https://auth.example/token', token_endpoint_auth_method: 'client_secret_basic' };
    expect(await v.oauth.storeClient({ tenant_id: tenant, connection_id: connection, client, client_secret: `${SECRET}-client` })).toMatchObject({ stored: true });
    const vault = rotationReplica(f, kek);
    const job = rotationOf(await vault.startTenant({ tenant_id: tenant }));
    expect(job).toMatchObject({ total: 2 });
    await vault.runner.runPending();
    expect(rotationOf(await vault.get({ id: job.id }))).toMatchObject({ status: 'COMPLETED', total: 2, done: 2 });
    expect((await f.rows('oauth_clients', { connection_id: connection })).map((r) => Number(r.key_version))).toEqual([2]);
    // Making a link opens the client (and its secret) under the new version.
    expect(await f.replica(kek).oauth.createLink({ tenant_id: tenant, connection_id: connection, account_id: newId('ca') })).toMatchObject({ link: expect.any(String) });
    expect(await dump(f)).not.toContain(`${SECRET}-client`);
  });

  it('keeps no secret, data key or master key readable at rest after re-encryption', async () => {
    const { tenant } = await tenantWith(3, 'basic');
    const vault = rotationReplica(f, kek);
    rotationOf(await vault.startTenant({ tenant_id: tenant }));
    await vault.runner.runPending();
    const keys = new DataKeysService(f.ds, kek);
    const dataKeys = [(await keys.find(tenant, 1))!, (await keys.find(tenant, 2))!];
    const text = await dump(f);
    expect(text).toContain(tenant);
    for (const form of [...encodings(SECRET), ...dataKeys.flatMap((k) => encodings(k)), ...encodings(f.config.masterKey)]) expect(text).not.toContain(form);
  });

  it('never overwrites a store that races the job, whatever version that store used', async () => {
    const { tenant, stored } = await tenantWith(4);
    const [viaApi, lateOldVersion] = [...stored.keys()];
    let raced = false;
    // Runs inside the first batch, after it has read its rows and before it writes them.
    const race = async () => {
      // A store through the vault: sealed under the new version.
      await f.replica(kek).store({ tenant_id: tenant, account_id: viaApi, auth_type: 'bearer_token', secret: { token: 'raced-new' } });
      // A store that had picked version 1 just before the rotation and lands now.
      const v1 = (await new DataKeysService(f.ds, kek).find(tenant, 1))!;
      const binding = { tenantId: tenant, accountId: lateOldVersion!, keyVersion: 1, authType: 'bearer_token' as const };
      await f.updateRows('credentials', { ...toColumns(sealCredential(v1, binding, { token: 'raced-old' })), updated_at: nowIso() }, { account_id: lateOldVersion! });
    };
    const vault = rotationReplica(f, kek, {
      settings: { batchSize: 100 },
      runnerKeys: (keys) =>
        Object.assign(Object.create(keys) as DataKeysService, {
          find: async (t: string, version: number) => {
            if (!raced && version === 1) {
              raced = true;
              await race();
            }
            return keys.find(t, version);
          },
        }),
    });
    rotationOf(await vault.startTenant({ tenant_id: tenant }));
    await vault.runner.runPending();
    expect(raced).toBe(true);
    stored.set(viaApi!, 'raced-new');
    stored.set(lateOldVersion!, 'raced-old');
    await readsAll(tenant, stored);
    // The late version-1 write was picked up again by a later batch and moved too.
    expect(await versionsOf(tenant)).toEqual([2, 2, 2, 2]);
  });

  it('is taken over by another replica when the one running it stops half-way (lease expired), and completes', async () => {
    const { tenant, stored } = await tenantWith(7);
    const crashed = rotationReplica(f, kek, { settings: { batchSize: 2, leaseMs: 400 } });
    const survivor = rotationReplica(f, kek, { settings: { batchSize: 2, leaseMs: 400 } });
    const job = rotationOf(await crashed.startTenant({ tenant_id: tenant }));

    await crashed.runner.runPending({ abandonAfterBatches: 1 });
    const [mid] = await f.rows('key_rotations', { id: job.id });
    expect(mid).toMatchObject({ status: 'RUNNING', done: 2, total: 7, lease_owner: crashed.runner.owner });
    await readsAll(tenant, stored); // reads work with the job half done
    // The lease still holds: the survivor leaves the job alone.
    await survivor.runner.runPending();
    expect((await f.rows('key_rotations', { id: job.id }))[0]).toMatchObject({ done: 2, lease_owner: crashed.runner.owner });

    await waitFor(
      async () => {
        await survivor.runner.runPending();
        return rotationOf(await survivor.get({ id: job.id })).status === 'COMPLETED';
      },
      { what: 'the survivor to finish the job', timeoutMs: 10_000 },
    );
    expect((await f.rows('key_rotations', { id: job.id }))[0]).toMatchObject({ done: 7, total: 7, lease_owner: null, lease_until: null });
    expect(await versionsOf(tenant)).toEqual([2, 2, 2, 2, 2, 2, 2]);
    await readsAll(tenant, stored);
  });

  it('stops with a clear error (ids only) on a tampered credential, and another rotation finishes once it is fixed', async () => {
    const { tenant, stored } = await tenantWith(3);
    const [bad] = [...stored.keys()];
    const [row] = await f.rows('credentials', { account_id: bad! });
    const flipped = Buffer.from(String(row!.ciphertext), 'base64');
    flipped[0]! ^= 0x01;
    await f.updateRows('credentials', { ciphertext: flipped.toString('base64') }, { account_id: bad! });
    const vault = rotationReplica(f, kek);
    const job = rotationOf(await vault.startTenant({ tenant_id: tenant }));
    await vault.runner.runPending();
    const failed = rotationOf(await vault.get({ id: job.id }));
    expect(failed).toMatchObject({ status: 'FAILED', error: unreadable(bad!).error.message });
    expect(JSON.stringify(await f.rows('key_rotations', { id: job.id }))).not.toContain(SECRET);
    // The tenant's credentials stay readable meanwhile (the good ones), and a new rotation,
    // once the account is stored again, moves everything to version 3.
    await v.store({ tenant_id: tenant, account_id: bad!, auth_type: 'bearer_token', secret: { token: 'stored-again' } });
    const again = rotationOf(await vault.startTenant({ tenant_id: tenant }));
    expect(again.target_version).toBe(3);
    await vault.runner.runPending();
    expect(rotationOf(await vault.get({ id: again.id }))).toMatchObject({ status: 'COMPLETED' });
    expect(await versionsOf(tenant)).toEqual([3, 3, 3]);
    stored.set(bad!, 'stored-again');
    await readsAll(tenant, stored);
  });

  it('refuses a row copied to another tenant or account, and a tampered wrapped key, after rotation too', async () => {
    const { tenant, stored } = await tenantWith(1);
    const vault = rotationReplica(f, kek);
    rotationOf(await vault.startTenant({ tenant_id: tenant }));
    await vault.runner.runPending();
    const [account] = [...stored.keys()];
    const [row] = await f.rows('credentials', { account_id: account! });
    const elsewhere: Row[] = [
      { tenant_id: newId('ten'), account_id: newId('ca') },
      { tenant_id: tenant, account_id: newId('ca') },
    ];
    for (const target of elsewhere) {
      await f.insertRow('credentials', { ...row, ...target });
      expect(await f.replica(kek).resolve(target)).toEqual(unreadable(String(target.account_id)));
    }
    const [key] = await f.rows('tenant_keys', { tenant_id: tenant, version: 2 });
    const flipped = Buffer.from(String(key!.wrapped_key), 'base64');
    flipped[flipped.length - 1]! ^= 0x01;
    await f.updateRows('tenant_keys', { wrapped_key: flipped.toString('base64') }, { tenant_id: tenant, version: 2 });
    f.logs.length = 0;
    expect(await f.replica(kek).resolve({ tenant_id: tenant, account_id: account! })).toEqual(unreadable(account!));
    expect(f.logs.join('')).toContain('data key cannot be unwrapped');
  });
});
