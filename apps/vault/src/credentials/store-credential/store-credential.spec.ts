import { newId } from '@vmcp/contracts';
import type { EntitySubscriberInterface } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVaultFixture, type VaultControllers, type VaultFixture } from '../../../test/vault-fixture.js';
import { CredentialEntity } from '../credential.entity.js';

const SECRET = 'store-spec-secret-0a7e';

describe('store a credential', () => {
  let f: VaultFixture;
  let v: VaultControllers;

  beforeAll(async () => {
    f = await openVaultFixture('sqlite');
    v = f.replica();
  });
  afterAll(() => f?.close());

  const body = (tenant: string, account: string, token = SECRET) => ({ tenant_id: tenant, account_id: account, auth_type: 'bearer_token', secret: { token } });

  it("seals it under the tenant's data key, created on the first store", async () => {
    const tenant = newId('ten');
    const account = newId('ca');
    expect(await f.rows('tenant_keys', { tenant_id: tenant })).toEqual([]);
    expect(await v.store(body(tenant, account))).toEqual({ stored: true, key_version: 1 });
    expect(await f.rows('tenant_keys', { tenant_id: tenant })).toHaveLength(1);
    const [row] = await f.rows('credentials', { account_id: account });
    expect(row).toMatchObject({ tenant_id: tenant, auth_type: 'bearer_token', key_version: 1 });
    expect(JSON.stringify(row)).not.toContain(SECRET);
    expect(await v.resolve({ tenant_id: tenant, account_id: account })).toEqual({ auth_type: 'bearer_token', secret: { token: SECRET } });
  });

  it('replaces the credential on a second store (upsert), keeping created_at, with a new nonce', async () => {
    const tenant = newId('ten');
    const account = newId('ca');
    await v.store(body(tenant, account));
    const [before] = await f.rows('credentials', { account_id: account });
    await v.store({ tenant_id: tenant, account_id: account, auth_type: 'api_key', secret: { api_key: `${SECRET}-2` } });
    const after = await f.rows('credentials', { account_id: account });
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ created_at: before!.created_at, auth_type: 'api_key' });
    expect(after[0]!.nonce).not.toBe(before!.nonce);
    expect(String(after[0]!.updated_at) >= String(before!.updated_at)).toBe(true);
    expect(await v.resolve({ tenant_id: tenant, account_id: account })).toEqual({ auth_type: 'api_key', secret: { api_key: `${SECRET}-2` } });
  });

  it("never overwrites another tenant's account: same answer as an unknown one", async () => {
    const owner = newId('ten');
    const account = newId('ca');
    await v.store(body(owner, account));
    expect(await v.store(body(newId('ten'), account, 'hijack'))).toEqual({
      error: { code: 'NOT_FOUND', message: `connected account ${account} not found` },
    });
    expect(await v.resolve({ tenant_id: owner, account_id: account })).toMatchObject({ secret: { token: SECRET } });
  });

  describe('when another replica inserts the same account first', () => {
    // The rival's store runs right before this store's insert: the one interleaving in
    // which the update finds nothing and the insert then collides.
    async function racing(rivalTenant: string, tenant: string, account: string) {
      let raced = false;
      const rival: EntitySubscriberInterface<CredentialEntity> = {
        listenTo: () => CredentialEntity,
        beforeInsert: async (event) => {
          if (raced || event.entity?.account_id !== account) return;
          raced = true;
          expect(await f.replica().store(body(rivalTenant, account, 'rival'))).toMatchObject({ stored: true });
        },
      };
      f.ds.subscribers.push(rival);
      try {
        return await v.store(body(tenant, account));
      } finally {
        f.ds.subscribers.splice(f.ds.subscribers.indexOf(rival), 1);
        expect(raced).toBe(true);
      }
    }

    it('writes over it when it is the same tenant (last write wins), in one row', async () => {
      const tenant = newId('ten');
      const account = newId('ca');
      expect(await racing(tenant, tenant, account)).toEqual({ stored: true, key_version: 1 });
      expect(await f.rows('credentials', { account_id: account })).toHaveLength(1);
      expect(await v.resolve({ tenant_id: tenant, account_id: account })).toMatchObject({ secret: { token: SECRET } });
    });

    it('leaves it alone when it is another tenant', async () => {
      const rival = newId('ten');
      const account = newId('ca');
      expect(await racing(rival, newId('ten'), account)).toMatchObject({ error: { code: 'NOT_FOUND' } });
      expect(await v.resolve({ tenant_id: rival, account_id: account })).toMatchObject({ secret: { token: 'rival' } });
    });
  });

  it('refuses malformed requests and a secret that does not fit its auth type, echoing no secret', async () => {
    const tenant = newId('ten');
    const bad: unknown[] = [
      { ...body(tenant, newId('ca')), extra: true },
      { ...body(tenant, newId('ca')), tenant_id: 'acme' },
      { ...body(tenant, newId('ca')), secret: { token: SECRET, api_key: SECRET } },
      { ...body(tenant, newId('ca')), auth_type: 'api_key' },
      { ...body(tenant, newId('ca')), auth_type: 'oauth2' },
      { tenant_id: tenant },
    ];
    for (const request of bad) {
      const reply = await v.store(request);
      expect(reply).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
      expect(JSON.stringify(reply)).not.toContain(SECRET);
    }
    expect(await f.rows('tenant_keys', { tenant_id: tenant })).toEqual([]);
  });
});
