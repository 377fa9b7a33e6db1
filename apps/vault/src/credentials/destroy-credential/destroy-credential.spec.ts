import { newId } from '@vmcp/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVaultFixture, type VaultControllers, type VaultFixture } from '../../../test/vault-fixture.js';

describe('destroy a credential', () => {
  let f: VaultFixture;
  let v: VaultControllers;

  beforeAll(async () => {
    f = await openVaultFixture('sqlite');
    v = f.replica();
  });
  afterAll(() => f?.close());

  it('deletes the sealed row, once; a repeat is harmless', async () => {
    const tenant = newId('ten');
    const account = newId('ca');
    await v.store({ tenant_id: tenant, account_id: account, auth_type: 'api_key', secret: { api_key: 'k-1' } });
    expect(await v.destroy({ tenant_id: tenant, account_id: account })).toEqual({ destroyed: true });
    expect(await f.rows('credentials', { account_id: account })).toEqual([]);
    expect(await v.resolve({ tenant_id: tenant, account_id: account })).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect(await v.destroy({ tenant_id: tenant, account_id: account })).toEqual({ destroyed: false });
  });

  it("cannot destroy another tenant's credential", async () => {
    const tenant = newId('ten');
    const account = newId('ca');
    await v.store({ tenant_id: tenant, account_id: account, auth_type: 'api_key', secret: { api_key: 'k-2' } });
    expect(await v.destroy({ tenant_id: newId('ten'), account_id: account })).toEqual({ destroyed: false });
    expect(await v.resolve({ tenant_id: tenant, account_id: account })).toMatchObject({ secret: { api_key: 'k-2' } });
  });

  it('refuses a malformed request', async () => {
    expect(await v.destroy({ account_id: newId('ca') })).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  });
});
