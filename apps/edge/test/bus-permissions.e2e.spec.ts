import { newId, policy, vault } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import {
  api,
  NATS_PERMISSIONS_FILE,
  natsUsers,
  startNatsServer,
  startStack,
  startUpstreamMcpServer,
  type NatsServerHandle,
  type Stack,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAgent, textOf } from './mcp-client.js';

// DESIGN invariant 7: each service has its own NATS user, limited by infra/k8s/base/nats/permissions.conf
// (the same file production uses). The whole gateway works under it, and the bus itself
// refuses what a service has no business doing.

describe('least privilege on the bus', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  const creds = natsUsers();
  const buses: Bus[] = [];
  const as = async (service: string) => {
    const u = creds.users[service]!;
    const bus = await Bus.connect({ url: nats.url, name: `test-as-${service}`, user: u.user, password: u.password, inboxPrefix: u.inboxPrefix, timeoutMs: 1500 });
    buses.push(bus);
    return bus;
  };

  beforeAll(async () => {
    nats = await startNatsServer({ configFile: NATS_PERMISSIONS_FILE, env: creds.serverEnv });
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite', natsUsers: creds.users });
  });

  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('runs the whole gateway with one restricted user per service', async () => {
    const admin = api(stack.baseUrl, stack.adminKey);
    const t = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name: 'perm' })).body as { api_key: string }).api_key);
    await t.post('/api/v1/connections', { name: 'up', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } });
    await t.post('/api/v1/connected_accounts', { connection_name: 'up', identifier: 'pat', authorization_details: { static_auth: { token: 'pat-secret' } } });
    const cfg = (await t.post('/api/v1/mcp/configs', { name: 'perm', connection_tool_mappings: [{ connection_name: 'up', tools: ['whoami'] }] })).body as {
      config: { id: string; mcp_server_url: string };
    };
    const tok = (await t.post(`/api/v1/mcp/configs/${cfg.config.id}/tokens`, { identifier: 'pat' })).body as { token: string };
    const client = await connectAgent(cfg.config.mcp_server_url, tok.token);
    expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toContain('Bearer pat-secret');
    await client.close();
    // execute_tool both ways: through the config, and by connection (its own policy subject).
    for (const scope of [{ config_id: cfg.config.id }, { connection_name: 'up' }]) {
      const r = await t.post<{ successful: boolean; data: unknown }>('/api/v1/execute_tool', { tool_name: 'whoami', identifier: 'pat', ...scope });
      expect(r.status, JSON.stringify(scope)).toBe(200);
      expect(JSON.stringify(r.body.data)).toContain('Bearer pat-secret');
    }
  });

  it('refuses the edge a plaintext credential, and the executor a session token', async () => {
    const request = { tenant_id: newId('ten'), account_id: newId('ca'), grant: 'a-grant-policy-never-signed' };
    // The executor reaches the vault (which refuses: policy granted nothing for that account)…
    await expect((await as('executor')).request(vault.resolveCredential, request)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // …the edge never does.
    const edge = await as('edge');
    const refused = await edge.request(vault.resolveCredential, request).catch((e: { code?: string }) => e);
    expect(refused).toMatchObject({ code: expect.stringMatching(/UNAVAILABLE|DEADLINE_EXCEEDED/) });

    const mint = { tenant_id: newId('ten'), config_id: newId('cfg'), identifier: 'x' };
    await expect(edge.request(policy.mintToken, mint)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const executor = await as('executor');
    await expect(executor.request(policy.mintToken, mint)).rejects.toMatchObject({ code: expect.stringMatching(/UNAVAILABLE|DEADLINE_EXCEEDED/) });
  });

  it('does not let a service listen in on another service’s requests', async () => {
    const edge = await as('edge');
    const sub = edge.connection.subscribe('vmcp.vault.v1.>');
    await expect(sub.closed).resolves.toBeInstanceOf(Error);
    // Nor on the replies another service receives (the vault's credential replies go to
    // the executor's inbox): each user may subscribe to its own inbox prefix only.
    for (const inbox of ['_INBOX_executor.>', '_INBOX.>', '>']) {
      const snoop = edge.connection.subscribe(inbox);
      await expect(snoop.closed).resolves.toBeInstanceOf(Error);
    }
  });
});
