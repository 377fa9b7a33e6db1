import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { newId, ping, policy, vault } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import {
  createGrantSigner,
  databaseEnv,
  startInProcessService,
  startNatsServer,
  type GrantSigner,
  type InProcessService,
  type NatsServerHandle,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultModule } from '../src/vault.module.js';

// The vault as production wires it (VaultModule, Nest NATS transport, queue group) on a
// private nats-server: the service subjects are fixed, so a shared server would mix runs.

const SECRET = 'bus-secret-7d03b5e2';

describe('vault over the bus', () => {
  let nats: NatsServerHandle;
  let service: InProcessService;
  let client: Bus;
  let grants: GrantSigner;
  let asPolicy: Bus;
  const db = databaseEnv('sqlite');
  const resolve = async (tenant_id: string, account_id: string) =>
    client.request(vault.resolveCredential, { tenant_id, account_id, grant: await grants.sign(tenant_id, account_id) });

  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: false });
    // Policy's part: the keys credential grants are signed with.
    grants = await createGrantSigner();
    asPolicy = await Bus.connect({ url: nats.url, name: 'policy-keys', timeoutMs: 3000 });
    asPolicy.connection.subscribe(policy.tokenKeys.subject, { callback: (_err, msg) => void msg.respond(JSON.stringify(grants.keys)) });
    await asPolicy.connection.flush();
    service = await startInProcessService({
      service: 'vault',
      natsUrl: nats.url,
      env: { ...db.env, VMCP_MASTER_KEY: randomBytes(32).toString('base64') },
      module: (core) => VaultModule.forRoot(core),
    });
    client = await Bus.connect({ url: nats.url, name: 'vault-test-client', timeoutMs: 3000 });
  });

  afterAll(async () => {
    await client?.close();
    await asPolicy?.close();
    await service?.close();
    await nats?.stop();
    await db.drop();
  });

  /** Sends bytes as any NATS client could, bypassing the Bus's own validation. */
  async function raw(subject: string, body: string): Promise<unknown> {
    return (await client.connection.request(subject, body, { timeout: 3000 })).json();
  }

  it('answers malformed and foreign input with INVALID_ARGUMENT, never a timeout, echoing no secret', async () => {
    const subjects = [vault.storeCredential, vault.resolveCredential, vault.destroyCredential, ping.vault].map((r) => r.subject);
    for (const subject of subjects) {
      expect(await raw(subject, 'not json{')).toEqual({ error: { code: 'INVALID_ARGUMENT', message: 'request body is not valid JSON' } });
    }
    const valid = { tenant_id: newId('ten'), account_id: newId('ca'), auth_type: 'bearer_token', secret: { token: SECRET } };
    const foreign: object[] = [
      { ...valid, extra: SECRET },
      { ...valid, tenant_id: 'acme' },
      { ...valid, account_id: `ca_${SECRET}!` },
      { ...valid, secret: { token: SECRET, cookie: SECRET } },
      { ...valid, auth_type: 'api_key' },
      [valid],
      {},
    ];
    for (const body of foreign) {
      const reply = await raw(vault.storeCredential.subject, JSON.stringify(body));
      expect(reply).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
      expect(JSON.stringify(reply)).not.toContain(SECRET);
    }
    expect(await raw(vault.resolveCredential.subject, JSON.stringify({ tenant_id: valid.tenant_id, account_id: valid.account_id, secret: 1 }))).toMatchObject({
      error: { code: 'INVALID_ARGUMENT' },
    });
    expect(await raw(ping.vault.subject, JSON.stringify({ probe: true }))).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    // Nothing of the refused requests was stored.
    await expect(resolve(valid.tenant_id, valid.account_id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it("resolves only with policy's grant for exactly that tenant and account", async () => {
    const tenant = newId('ten');
    const account_id = newId('ca');
    await client.request(vault.storeCredential, { tenant_id: tenant, account_id, auth_type: 'bearer_token', secret: { token: SECRET } });
    const ask = (grant: string) => raw(vault.resolveCredential.subject, JSON.stringify({ tenant_id: tenant, account_id, grant }));
    expect(await raw(vault.resolveCredential.subject, JSON.stringify({ tenant_id: tenant, account_id }))).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    const refusals = [
      'not-a-grant-at-all-0123456789',
      await grants.sign(tenant, newId('ca')),
      await grants.sign(newId('ten'), account_id),
      await grants.sign(tenant, account_id, { expiresInSeconds: -60 }),
      // A session token (typ JWT, audience the MCP URL) is not a grant, even when signed by policy.
      await grants.sign(tenant, account_id, { typ: 'JWT' }),
      await grants.sign(tenant, account_id, { audience: 'http://vmcp.test/mcp/cfg_1' }),
      await grants.sign(tenant, account_id, { issuer: 'http://elsewhere.test' }),
      await (await createGrantSigner()).sign(tenant, account_id),
    ];
    for (const grant of refusals) {
      const reply = await ask(grant);
      expect(reply).toMatchObject({ error: { code: 'FORBIDDEN' } });
      expect(JSON.stringify(reply)).not.toContain(SECRET);
    }
    expect(await ask(await grants.sign(tenant, account_id))).toEqual({ auth_type: 'bearer_token', secret: { token: SECRET } });
  });

  it('stores, resolves and destroys through the Bus, for the owning tenant only', async () => {
    const tenant = newId('ten');
    const account_id = newId('ca');
    const secret = { headers: { 'X-Upstream-Key': SECRET } };
    expect(await client.request(vault.storeCredential, { tenant_id: tenant, account_id, auth_type: 'custom_headers', secret })).toEqual({
      stored: true,
      key_version: 1,
    });
    expect(await resolve(tenant, account_id)).toEqual({ auth_type: 'custom_headers', secret });
    // Even with a valid grant for another tenant, another tenant's row is not there.
    await expect(resolve(newId('ten'), account_id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await client.request(vault.destroyCredential, { tenant_id: tenant, account_id })).toEqual({ destroyed: true });
    await expect(resolve(tenant, account_id)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: `no credential stored for account ${account_id}`,
    });
  });

  it('answers its ping as ready', async () => {
    expect(await client.request(ping.vault, {})).toMatchObject({ service: 'vault', ready: true });
  });
});
