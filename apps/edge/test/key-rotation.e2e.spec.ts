import {
  api,
  startNatsServer,
  startStack,
  startUpstreamMcpServer,
  waitFor,
  type NatsServerHandle,
  type Stack,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAgent, textOf } from './mcp-client.js';

// Key rotation through the management API, on the whole stack: both rotations complete
// and the user's credential still reaches the upstream afterwards.

interface Rotation {
  id: string;
  status: string;
  scope: string;
  tenant_id: string | null;
  total: number;
  done: number;
}

describe('key rotation through the management API', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
  });

  afterAll(async () => {
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('rotates a tenant data key (tenant key) and the master key (admin key) to COMPLETED; tool calls keep working', async () => {
    const admin = api(stack.baseUrl, stack.adminKey);
    const created = (await admin.post('/api/v1/tenants', { name: 'rotating' })).body as { tenant: { id: string }; api_key: string };
    const t = api(stack.baseUrl, created.api_key);
    await t.post('/api/v1/connections', { name: 'up', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } });
    await t.post('/api/v1/connected_accounts', { connection_name: 'up', identifier: 'pat', authorization_details: { static_auth: { token: 'pat-secret' } } });
    const cfg = (await t.post('/api/v1/mcp/configs', { name: 'rot', connection_tool_mappings: [{ connection_name: 'up', tools: ['whoami'] }] })).body as {
      config: { id: string; mcp_server_url: string };
    };

    const tenantJob = await t.post<{ key_rotation: Rotation }>('/api/v1/key_rotations', { scope: 'tenant' });
    expect(tenantJob.status).toBe(202);
    expect(tenantJob.body.key_rotation).toMatchObject({ id: expect.stringMatching(/^rot_/), scope: 'tenant', tenant_id: created.tenant.id, total: 1 });
    const masterJob = await admin.post<{ key_rotation: Rotation }>('/api/v1/key_rotations', { scope: 'master' });
    expect(masterJob.status).toBe(202);

    for (const [client, id] of [[t, tenantJob.body.key_rotation.id], [admin, masterJob.body.key_rotation.id]] as const) {
      const done = await waitFor(
        async () => {
          const r = (await client.get<{ key_rotation: Rotation }>(`/api/v1/key_rotations/${id}`)).body.key_rotation;
          return r.status === 'COMPLETED' && r;
        },
        { what: `rotation ${id} to complete` },
      );
      expect(done.done).toBe(done.total);
    }
    expect((await t.get('/api/v1/key_rotations')).body).toEqual({ key_rotations: [expect.objectContaining({ id: tenantJob.body.key_rotation.id })] });

    // The documented refusals: the tenant comes from the key, the master key is the admin's.
    expect((await t.post('/api/v1/key_rotations', { scope: 'master' })).status).toBe(403);
    expect((await t.post('/api/v1/key_rotations', { scope: 'tenant', tenant_id: created.tenant.id })).status).toBe(400);
    expect((await admin.post('/api/v1/key_rotations', { scope: 'tenant' })).status).toBe(400);
    expect((await admin.post('/api/v1/key_rotations', { scope: 'everything' })).status).toBe(400);
    expect((await t.get(`/api/v1/key_rotations/${masterJob.body.key_rotation.id}`)).status).toBe(404);
    expect((await t.get('/api/v1/key_rotations/not-an-id')).status).toBe(400);

    const tok = (await t.post(`/api/v1/mcp/configs/${cfg.config.id}/tokens`, { identifier: 'pat' })).body as { token: string };
    const client = await connectAgent(cfg.config.mcp_server_url, tok.token);
    expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toContain('Bearer pat-secret');
    await client.close();
  });
});
