import 'reflect-metadata';
import { executor, policy, type SessionPrincipal } from '@vmcp/contracts';
import { Kvm } from '@nats-io/kv';
import { Bus } from '@vmcp/messaging';
import {
  DATABASE_KINDS,
  databaseEnv,
  startInProcessService,
  startNatsServer,
  uniqueName,
  waitFor,
  type InProcessService,
  type NatsServerHandle,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyModule } from '../src/policy.module.js';

// Policy's handlers over a real bus (private nats-server) on both databases. A stub
// executor answers tool discovery with a fixed catalog.

const CATALOG = [
  { name: 'lookup', inputSchema: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] } },
  { name: 'delete', inputSchema: { type: 'object' } },
  {
    name: 'modern',
    inputSchema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { tags: { type: 'array', prefixItems: [{ type: 'string' }] } } },
  },
];

describe.each(DATABASE_KINDS)('policy over the bus on %s', (kind) => {
  let nats: NatsServerHandle;
  let service: InProcessService;
  let client: Bus;
  const db = databaseEnv(kind);
  const revocationsBucket = uniqueName('rev_');
  let tenant: string;
  let other: string;
  let configId: string;
  /** Connection names the stub executor was asked to discover, in order. */
  const discoveries: string[] = [];
  /** Whether the stub fails discovery on the connection named `down`. */
  let downFails = true;

  beforeAll(async () => {
    nats = await startNatsServer();
    service = await startInProcessService({
      service: 'policy',
      natsUrl: nats.url,
      env: { ...db.env, VMCP_REVOCATIONS_BUCKET: revocationsBucket },
      module: (core) => PolicyModule.forRoot(core),
    });
    client = await Bus.connect({ url: nats.url, name: 'policy-test-client', timeoutMs: 3000 });
    client.connection.subscribe(executor.listConnectionTools.subject, {
      callback: (_e, msg) => {
        const { connection } = msg.json<{ connection: { name: string } }>();
        discoveries.push(connection.name);
        const failing = connection.name === 'down' && downFails;
        void msg.respond(JSON.stringify(failing ? { error: { code: 'DEADLINE_EXCEEDED', message: 'tools/list: no answer within 2750 ms' } } : { tools: CATALOG }));
      },
    });
    tenant = (await client.request(policy.createTenant, { name: 'acme' })).tenant.id;
    other = (await client.request(policy.createTenant, { name: 'globex' })).tenant.id;
  });

  afterAll(async () => {
    await client?.close();
    await service?.close();
    await nats?.stop();
    await db.drop();
  });

  it('manages tenants and their API keys', async () => {
    await expect(client.request(policy.createTenant, { name: 'acme' })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    const key = await client.request(policy.createApiKey, { tenant_id: tenant });
    expect(key.api_key).toMatch(/^vmcp_sk_/);
    expect(await client.request(policy.authenticateApiKey, { api_key: key.api_key })).toEqual({ tenant_id: tenant, key_id: key.key_id });
    await expect(client.request(policy.revokeApiKey, { tenant_id: other, key_id: key.key_id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await client.request(policy.revokeApiKey, { tenant_id: tenant, key_id: key.key_id });
    await expect(client.request(policy.authenticateApiKey, { api_key: key.api_key })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await client.request(policy.createTenant, { name: 'initech' });
    const first = await client.request(policy.listTenants, { page_size: 2 });
    expect(first.tenants).toHaveLength(2);
    const second = await client.request(policy.listTenants, { page_size: 2, page_token: first.next_page_token as string });
    expect((second.tenants as Array<{ name: string }>).map((t) => t.name)).toEqual(['initech']);
    expect(second.next_page_token).toBeUndefined();
    await expect(client.request(policy.listTenants, { page_size: 2, page_token: 'garbage' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('validates connections against the catalog', async () => {
    const base = { tenant_id: tenant, connector: 'mcp', settings: { url: 'http://127.0.0.1:9/mcp' } };
    const created = await client.request(policy.createConnection, { ...base, name: 'crm', auth_type: 'bearer_token' });
    expect(created.connection).toMatchObject({ name: 'crm', auth_type: 'bearer_token', settings: { url: 'http://127.0.0.1:9/mcp' } });
    await expect(client.request(policy.createConnection, { ...base, name: 'crm', auth_type: 'none' })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(client.request(policy.createConnection, { ...base, name: 'x', connector: 'nope', auth_type: 'none' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(client.request(policy.createConnection, { ...base, name: 'x', auth_type: 'oauth2' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(client.request(policy.createConnection, { tenant_id: tenant, name: 'x', connector: 'mcp', auth_type: 'none', settings: {} })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(client.request(policy.getConnection, { tenant_id: other, name: 'crm' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('answers malformed bus input with INVALID_ARGUMENT', async () => {
    const raw = await client.connection.request(policy.decide.subject, '{"tenant_id": 5}', { timeout: 3000 });
    expect(raw.json()).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  });

  it('decides calls: mapped and valid only, same refusal for unmapped and missing', async () => {
    await client.request(policy.createConnection, { tenant_id: tenant, name: 'tools', connector: 'mcp', auth_type: 'api_key', settings: { url: 'http://127.0.0.1:9/mcp' } });
    await expect(
      client.request(policy.createConfig, { tenant_id: tenant, name: 'c', connection_tool_mappings: [{ connection_name: 'missing', tools: ['x'] }] }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      client.request(policy.createConfig, {
        tenant_id: tenant,
        name: 'c',
        connection_tool_mappings: [
          { connection_name: 'tools', tools: ['x'] },
          { connection_name: 'tools', tools: ['y'] },
        ],
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const cfg = await client.request(policy.createConfig, {
      tenant_id: tenant,
      name: 'agent',
      connection_tool_mappings: [{ connection_name: 'tools', tools: ['lookup', 'modern'], prefix: 't_' }],
    });
    configId = cfg.config.id;
    expect(cfg.config.mcp_server_url).toMatch(new RegExp(`/mcp/${configId}$`));
    const token = await client.request(policy.mintToken, { tenant_id: tenant, config_id: configId, identifier: 'u1' });
    const who: SessionPrincipal = { tenant_id: tenant, config_id: configId, identifier: 'u1', token_id: token.token_id };

    // No account yet: nothing listed, calls refused for the account.
    expect((await client.request(policy.scopedTools, who)).tools).toEqual([]);
    // The config's client requests ride with every decision, a refusal too.
    expect(await client.request(policy.decide, { ...who, tool_name: 't_lookup', arguments: { id: 1 } })).toMatchObject({
      decision: 'deny',
      reason: 'ACCOUNT_NOT_ACTIVE',
      context: { client_requests: { sampling: true, elicitation: true } },
    });

    const { connected_account } = await client.request(policy.prepareAccount, { tenant_id: tenant, connection_name: 'tools', identifier: 'u1' });
    expect(connected_account.status).toBe('PENDING_AUTH');
    await client.request(policy.setAccountStatus, { tenant_id: tenant, account_id: connected_account.id, status: 'ACTIVE' });

    expect((await client.request(policy.scopedTools, who)).tools.map((t) => t.name)).toEqual(['t_lookup', 't_modern']);
    expect(await client.request(policy.decide, { ...who, tool_name: 't_lookup', arguments: { id: 1 } })).toMatchObject({
      decision: 'allow',
      upstream_tool_name: 'lookup',
      connected_account_id: connected_account.id,
      context: { connection_name: 'tools', connector: 'mcp', client_requests: { sampling: true, elicitation: true } },
    });
    const invalid = await client.request(policy.decide, { ...who, tool_name: 't_lookup', arguments: { id: 'secret-value' } });
    expect(invalid).toMatchObject({ decision: 'deny', reason: 'INVALID_ARGUMENT' });
    expect(JSON.stringify(invalid)).not.toContain('secret-value');
    expect(await client.request(policy.decide, { ...who, tool_name: 't_modern', arguments: { tags: [1] } })).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    expect(await client.request(policy.decide, { ...who, tool_name: 't_modern', arguments: { tags: ['a'] } })).toMatchObject({ decision: 'allow' });

    const unmapped = await client.request(policy.decide, { ...who, tool_name: 't_delete', arguments: {} });
    const missing = await client.request(policy.decide, { ...who, tool_name: 't_nothing', arguments: {} });
    const unprefixed = await client.request(policy.decide, { ...who, tool_name: 'lookup', arguments: { id: 1 } });
    for (const d of [unmapped, missing, unprefixed]) expect(d).toMatchObject({ decision: 'deny', reason: 'TOOL_NOT_FOUND' });
    expect(unmapped.decision === 'deny' && unmapped.message.replace('t_delete', '')).toBe(missing.decision === 'deny' && missing.message.replace('t_nothing', ''));

    // Another tenant's principal for this config sees nothing and is refused.
    expect(await client.request(policy.decide, { ...who, tenant_id: other, tool_name: 't_lookup', arguments: { id: 1 } })).toMatchObject({ decision: 'deny' });

    await client.request(policy.revokeToken, { tenant_id: tenant, token_id: token.token_id });
    expect(await client.request(policy.decide, { ...who, tool_name: 't_lookup', arguments: { id: 1 } })).toMatchObject({ reason: 'TOKEN_REVOKED' });
    await expect(client.request(policy.revokeToken, { tenant_id: other, token_id: token.token_id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('names a connection whose discovery failed in `unavailable`, retries it in the background, and marks the tenant changed when it works', async () => {
    for (const name of ['good', 'down']) {
      await client.request(policy.createConnection, { tenant_id: tenant, name, connector: 'mcp', auth_type: 'api_key', settings: { url: 'http://127.0.0.1:9/mcp' } });
      const { connected_account } = await client.request(policy.prepareAccount, { tenant_id: tenant, connection_name: name, identifier: 'u2' });
      await client.request(policy.setAccountStatus, { tenant_id: tenant, account_id: connected_account.id, status: 'ACTIVE' });
    }
    const cfg = await client.request(policy.createConfig, {
      tenant_id: tenant,
      name: 'partial',
      connection_tool_mappings: [
        { connection_name: 'down', tools: ['lookup'], prefix: 'd_' },
        { connection_name: 'good', tools: ['lookup'], prefix: 'g_' },
      ],
    });
    const who: SessionPrincipal = { tenant_id: tenant, config_id: cfg.config.id, identifier: 'u2' };

    const downAsked = () => discoveries.filter((n) => n === 'down').length;
    const kv = await new Kvm(client.connection).open(revocationsBucket);
    const mark = async () => (await kv.get(`chg.${tenant}`))?.revision ?? 0;

    expect(await client.request(policy.scopedTools, who)).toMatchObject({
      tools: [{ name: 'g_lookup', connection_name: 'good' }],
      unavailable: [{ connection_name: 'down', code: 'DEADLINE_EXCEEDED', message: 'tools/list: no answer within 2750 ms' }],
    });
    // Not kept, and tried again in the background (after 1 s), with nobody asking.
    const failedAt = downAsked();
    await waitFor(() => downAsked() > failedAt, { timeoutMs: 5000, what: 'a background retry of the failed discovery' });
    // Once a retry works, the tenant is marked changed: every edge drops its lists and tells
    // the tenant's agents to list again. The list is then whole, from policy's cache.
    const marked = await mark();
    downFails = false;
    await waitFor(async () => (await mark()) > marked, { timeoutMs: 10_000, what: 'the tenant change mark after the discovery recovered' });
    const asked = downAsked();
    const again = await client.request(policy.scopedTools, who);
    expect(again.tools.map((t) => t.name)).toEqual(['d_lookup', 'g_lookup']);
    expect(again.unavailable).toEqual([]);
    expect(downAsked()).toBe(asked);
    // Another tenant's principal for this config hears nothing of either connection.
    expect(await client.request(policy.scopedTools, { ...who, tenant_id: other })).toEqual({ tools: [], unavailable: [] });
    await client.request(policy.deleteConfig, { tenant_id: tenant, config_id: cfg.config.id });
  });

  it('refuses to delete a mapped connection, and deletes configs for good', async () => {
    await expect(client.request(policy.deleteConnection, { tenant_id: tenant, name: 'tools' })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    await expect(client.request(policy.deleteConfig, { tenant_id: other, config_id: configId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await client.request(policy.deleteConfig, { tenant_id: tenant, config_id: configId });
    const who = { tenant_id: tenant, config_id: configId, identifier: 'u1' };
    expect(await client.request(policy.decide, { ...who, tool_name: 't_lookup', arguments: { id: 1 } })).toMatchObject({ reason: 'CONFIG_NOT_FOUND' });
    const removed = await client.request(policy.deleteConnection, { tenant_id: tenant, name: 'tools' });
    expect(removed.account_ids).toHaveLength(1);
  });
});
