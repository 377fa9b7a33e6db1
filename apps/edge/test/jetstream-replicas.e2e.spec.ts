import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Bus, ensureAuditStream } from '@vmcp/messaging';
import {
  api,
  startNatsCluster,
  startStack,
  startUpstreamMcpServer,
  waitFor,
  type NatsClusterHandle,
  type Stack,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// On a three-node NATS cluster (as infra/k8s runs it) with VMCP_JETSTREAM_REPLICAS=3, every
// stream and bucket the services make lives on all three nodes, and a stream an earlier
// release made with one replica is raised by its owner. (A single nats-server refuses more
// than one replica, so the other tests run with the default, 1.)

const OLD_AUDIT_STREAM = 'AUDIT_FROM_BEFORE';

describe('JetStream replicas', () => {
  let cluster: NatsClusterHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let bus: Bus;
  let jsm: JetStreamManager;
  let agent: Client;

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    bus = await Bus.connect({ url: cluster.url, name: 'replicas-test', timeoutMs: 5000 });
    jsm = await jetstreamManager(bus.connection);
    // What a release without the setting left behind: the audit stream on one node.
    await ensureAuditStream(bus, OLD_AUDIT_STREAM, { maxAgeMs: 3_600_000 });
    expect((await jsm.streams.info(OLD_AUDIT_STREAM)).config.num_replicas).toBe(1);

    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: cluster.url, database: 'sqlite', env: { VMCP_JETSTREAM_REPLICAS: '3', VMCP_AUDIT_STREAM: OLD_AUDIT_STREAM } });
    const admin = api(stack.baseUrl, stack.adminKey);
    const tenant = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name: 'acme' })).body as { api_key: string }).api_key);
    expect((await tenant.post('/api/v1/connections', { name: 'upstream', connector: 'mcp', auth_type: 'none', settings: { url: upstream.url } })).status).toBe(201);
    const config = await tenant.post<{ config: { id: string } }>('/api/v1/mcp/configs', {
      name: 'replicas',
      connection_tool_mappings: [{ connection_name: 'upstream', tools: ['echo'] }],
    });
    expect(config.status).toBe(201);
    const minted = await tenant.post<{ token: string; mcp_server_url: string }>(`/api/v1/mcp/configs/${config.body.config.id}/tokens`, { identifier: 'alice' });
    // A 2025-era session: the edge keeps it in the sessions bucket, made on first use.
    agent = new Client({ name: 'replicas-agent', version: '1.0.0' });
    await agent.connect(new StreamableHTTPClientTransport(new URL(minted.body.mcp_server_url), { requestInit: { headers: { Authorization: `Bearer ${minted.body.token}` } } }));
  });

  afterAll(async () => {
    await agent?.close().catch(() => undefined);
    await stack?.close();
    await upstream?.close();
    await bus?.close();
    await cluster?.stop();
  });

  it('creates every stream and bucket on three nodes, and raises the one made with fewer (and gives AUDIT its age)', async () => {
    const streams = [
      OLD_AUDIT_STREAM, // the audit service's, raised
      stack.env.VMCP_EVENTS_STREAM!, // policy's
      `KV_${stack.env.VMCP_REVOCATIONS_BUCKET!}`, // policy's
      'KV_vmcp_sessions', // the edge's
    ];
    for (const name of streams) {
      const info = await waitFor(
        async () => {
          const i = await jsm.streams.info(name);
          return i.config.num_replicas === 3 && i.cluster?.replicas?.length === 2 ? i : undefined;
        },
        { what: `${name} on three nodes` },
      );
      expect(info.cluster?.leader, name).toBeTruthy();
    }
    // The audit service, the stream's owner, also gave it the configured age (default 7 days):
    // the stream only carries events until they are stored, so its disk stays bounded.
    expect((await jsm.streams.info(OLD_AUDIT_STREAM)).config.max_age).toBe(168 * 3_600 * 1e9);
  });
});
