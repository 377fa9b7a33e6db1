import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { api, startNatsServer, startStack, startUpstreamMcpServer, waitFor, type NatsServerHandle, type Stack, type UpstreamMcpServer } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAgent } from './mcp-client.js';

// One tools/call is one trace across the five services, exported over OTLP to a
// collector the test runs; no span carries the user's credential.

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}

const SECRET = 'trace-test-upstream-secret-7d1e';

describe('telemetry', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let collector: Server;
  const spans: Array<OtlpSpan & { service: string }> = [];
  const bodies: string[] = [];

  beforeAll(async () => {
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        const doc = JSON.parse(body) as {
          resourceSpans?: Array<{ resource?: { attributes?: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans?: Array<{ spans?: OtlpSpan[] }> }>;
        };
        for (const rs of doc.resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
          for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ ...s, service });
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    stack = await startStack({
      natsUrl: nats.url,
      database: 'sqlite',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
  });

  afterAll(async () => {
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
    collector?.close();
  });

  it('follows one tools/call through edge, policy, vault, executor and audit', async () => {
    const admin = api(stack.baseUrl, stack.adminKey);
    const t = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name: 'traced' })).body as { api_key: string }).api_key);
    await t.post('/api/v1/connections', { name: 'up', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } });
    await t.post('/api/v1/connected_accounts', { connection_name: 'up', identifier: 'tia', authorization_details: { static_auth: { token: SECRET } } });
    const cfg = (await t.post('/api/v1/mcp/configs', { name: 'traced', connection_tool_mappings: [{ connection_name: 'up', tools: ['echo'] }] })).body as {
      config: { id: string; mcp_server_url: string };
    };
    const tok = (await t.post(`/api/v1/mcp/configs/${cfg.config.id}/tokens`, { identifier: 'tia' })).body as { token: string };
    const client = await connectAgent(cfg.config.mcp_server_url, tok.token);
    // The first call opens the upstream session, so the vault is on its path.
    await client.callTool({ name: 'echo', arguments: { text: 'traced' } });
    await client.close();

    const services = await waitFor(
      () => {
        const root = spans.find((s) => s.name === 'tools/call' && s.service === 'vmcp-edge');
        if (!root) return undefined;
        const inTrace = spans.filter((s) => s.traceId === root.traceId);
        const names = new Set(inTrace.map((s) => s.service));
        return names.size === 5 ? [...names].sort() : undefined;
      },
      { timeoutMs: 10_000, what: 'spans from all five services in one trace' },
    );
    expect(services).toEqual(['vmcp-audit', 'vmcp-edge', 'vmcp-executor', 'vmcp-policy', 'vmcp-vault']);
    expect(bodies.join('')).not.toContain(SECRET);
  });
});
