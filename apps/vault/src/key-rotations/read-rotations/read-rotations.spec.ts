import { newId } from '@vmcp/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotationOf, rotationReplica, type RotationReplica } from '../../../test/key-rotation-fixture.js';
import { openVaultFixture, type VaultFixture } from '../../../test/vault-fixture.js';
import { LocalKeyEncryptionKeyProvider } from '../../keys/key-encryption-key.provider.js';

describe('read key rotations', () => {
  let f: VaultFixture;
  let vault: RotationReplica;
  const tenants = [newId('ten'), newId('ten')];
  const ids: string[] = [];

  beforeAll(async () => {
    f = await openVaultFixture('sqlite');
    vault = rotationReplica(f, new LocalKeyEncryptionKeyProvider(f.config.masterKey));
    for (const tenant of tenants) await vault.keys.current(tenant);
    ids.push(rotationOf(await vault.startTenant({ tenant_id: tenants[0] })).id);
    ids.push(rotationOf(await vault.startMaster()).id);
    await vault.runner.runPending();
    ids.push(rotationOf(await vault.startTenant({ tenant_id: tenants[1] })).id);
  });
  afterAll(() => f?.close());

  it('gets one with its progress; with a tenant, only that tenant’s, as if others did not exist', async () => {
    expect(rotationOf(await vault.get({ id: ids[0] }))).toMatchObject({ id: ids[0], status: 'COMPLETED', total: 0, done: 0 });
    expect(rotationOf(await vault.get({ id: ids[0], tenant_id: tenants[0] }))).toMatchObject({ id: ids[0] });
    const notFound = (id: string) => ({ error: { code: 'NOT_FOUND', message: `key rotation ${id} not found` } });
    expect(await vault.get({ id: ids[0], tenant_id: tenants[1] })).toEqual(notFound(ids[0]!));
    expect(await vault.get({ id: ids[1], tenant_id: tenants[0] })).toEqual(notFound(ids[1]!)); // a master job
    const unknown = newId('rot');
    expect(await vault.get({ id: unknown })).toEqual(notFound(unknown));
    for (const body of [{ id: 'rot_!' }, { id: newId('exe') }, {}, { id: ids[0], tenant_id: 'x' }, { id: ids[0], extra: true }]) {
      expect(await vault.get(body)).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    }
  });

  it('lists newest first, filtered, a page at a time', async () => {
    const all = await vault.list({});
    expect(all).toMatchObject({ key_rotations: [{ id: ids[2] }, { id: ids[1] }, { id: ids[0] }] });
    expect(await vault.list({ scope: 'master' })).toMatchObject({ key_rotations: [{ id: ids[1] }] });
    expect(await vault.list({ tenant_id: tenants[1] })).toMatchObject({ key_rotations: [{ id: ids[2], status: 'RUNNING' }] });
    expect(await vault.list({ status: 'COMPLETED' })).toMatchObject({ key_rotations: [{ id: ids[1] }, { id: ids[0] }] });
    const first = (await vault.list({ page_size: 2 })) as { key_rotations: Array<{ id: string }>; next_page_token?: string };
    expect(first.key_rotations.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    const second = await vault.list({ page_size: 2, page_token: first.next_page_token });
    expect(second).toEqual({ key_rotations: [expect.objectContaining({ id: ids[0] })] });
    for (const body of [{ page_size: 0 }, { page_size: 500 }, { status: 'DONE' }, { scope: 'all' }, { page_token: 'garbage' }, { tenant: tenants[0] }]) {
      expect(await vault.list(body)).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    }
  });
});
