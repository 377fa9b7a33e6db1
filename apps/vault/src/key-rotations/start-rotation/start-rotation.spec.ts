import { randomBytes } from 'node:crypto';
import { newId } from '@vmcp/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotationOf, rotationReplica, type RotationReplica } from '../../../test/key-rotation-fixture.js';
import { openVaultFixture, type VaultFixture } from '../../../test/vault-fixture.js';
import { LocalKeyEncryptionKeyProvider, localKekId } from '../../keys/key-encryption-key.provider.js';

describe('start a key rotation', () => {
  let f: VaultFixture;
  let vault: RotationReplica;

  beforeAll(async () => {
    f = await openVaultFixture('sqlite');
    vault = rotationReplica(f, new LocalKeyEncryptionKeyProvider(f.config.masterKey));
  });
  afterAll(() => f?.close());

  it('refuses malformed requests with INVALID_ARGUMENT, creating nothing', async () => {
    const tenant = newId('ten');
    await vault.keys.current(tenant);
    for (const body of [{}, { tenant_id: 'acme' }, { tenant_id: tenant, extra: 1 }, { tenant_id: [tenant] }, [tenant]]) {
      expect(await vault.startTenant(body)).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    }
    expect(await vault.startMaster({ scope: 'master' })).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    expect(await f.rows('key_rotations')).toEqual([]);
    expect(await f.rows('tenant_keys', { tenant_id: tenant })).toHaveLength(1);
  });

  it('refuses a tenant without a data key, and a second rotation of a tenant while one runs', async () => {
    const unknown = newId('ten');
    expect(await vault.startTenant({ tenant_id: unknown })).toEqual({
      error: { code: 'FAILED_PRECONDITION', message: `tenant ${unknown} has no data key yet: one is created with its first credential` },
    });
    const tenant = newId('ten');
    await vault.keys.current(tenant);
    const first = rotationOf(await vault.startTenant({ tenant_id: tenant }));
    expect(first).toMatchObject({ id: expect.stringMatching(/^rot_/), scope: 'tenant', tenant_id: tenant, target_version: 2, status: 'RUNNING' });
    expect(await vault.startTenant({ tenant_id: tenant })).toEqual({
      error: { code: 'ALREADY_EXISTS', message: `a data-key rotation of tenant ${tenant} is already running: ${first.id}` },
    });
    await vault.runner.runPending();
    // Once it is done, the next one moves on to version 3.
    expect(rotationOf(await vault.startTenant({ tenant_id: tenant }))).toMatchObject({ target_version: 3 });
  });

  it('returns the running master rotation when asked again, and supersedes one for an older key', async () => {
    const first = rotationOf(await vault.startMaster());
    expect(first).toMatchObject({ scope: 'master', tenant_id: null, target_version: null, target_kek_id: localKekId(f.config.masterKey) });
    expect(rotationOf(await vault.startMaster()).id).toBe(first.id);

    const next = rotationReplica(f, new LocalKeyEncryptionKeyProvider(randomBytes(32), [f.config.masterKey]));
    const second = rotationOf(await next.startMaster());
    expect(second.id).not.toBe(first.id);
    expect(rotationOf(await vault.get({ id: first.id }))).toMatchObject({ status: 'FAILED', error: `superseded by ${second.id}`, finished_at: expect.any(String) });
    // A replica still on the old key does not pick up the new job; one on the new key does.
    await vault.runner.runPending();
    expect(rotationOf(await vault.get({ id: second.id }))).toMatchObject({ status: 'RUNNING' });
    await next.runner.runPending();
    expect(rotationOf(await vault.get({ id: second.id }))).toMatchObject({ status: 'COMPLETED' });
    expect(new Set((await f.rows('tenant_keys')).map((r) => r.kek_id))).toEqual(new Set([next.kek.id]));
  });

  it('runs the job in the background on the replica that started it', async () => {
    const auto = rotationReplica(f, new LocalKeyEncryptionKeyProvider(f.config.masterKey), { autoRun: true });
    const tenant = newId('ten');
    await auto.keys.current(tenant);
    const job = rotationOf(await auto.startTenant({ tenant_id: tenant }));
    await auto.runner.idle();
    expect(rotationOf(await auto.get({ id: job.id }))).toMatchObject({ status: 'COMPLETED', total: 0, done: 0 });
  });
});
