import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { api, startNatsServer, startStack, startUpstreamMcpServer, waitFor, type NatsServerHandle, type Stack, type UpstreamMcpServer } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAgent } from './mcp-client.js';

// One tools/call is one trace across the five services, exported over OTLP to a
// collector the test runs, with each hop under the one that caused it; no span carries
// the user's credential, the session token or an API key.

interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: OtlpAttribute[];
  events?: Array<{ name: string; attributes?: OtlpAttribute[] }>;
  status?: { message?: string };
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
    const apiKey = ((await admin.post('/api/v1/tenants', { name: 'traced' })).body as { api_key: string }).api_key;
    const t = api(stack.baseUrl, apiKey);
    await t.post('/api/v1/connections', { name: 'up', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } });
    await t.post('/api/v1/connected_accounts', { connection_name: 'up', identifier: 'tia', authorization_details: { static_auth: { token: SECRET } } });
    const cfg = (await t.post('/api/v1/mcp/configs', { name: 'traced', connection_tool_mappings: [{ connection_name: 'up', tools: ['echo'] }] })).body as {
      config: { id: string; mcp_server_url: string };
    };
    const tok = (await t.post(`/api/v1/mcp/configs/${cfg.config.id}/tokens`, { identifier: 'tia' })).body as { token: string };
    const credentials = [SECRET, tok.token, stack.adminKey, apiKey];
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
        // Each service exports on its own schedule: wait for every span asserted on below.
        const expected = [
          'vmcp-policy vmcp.policy.v1.decide process',
          'vmcp-executor vmcp.executor.v1.tools.call process',
          'vmcp-vault vmcp.vault.v1.credentials.resolve process',
        ];
        const have = new Set(inTrace.map((s) => `${s.service} ${s.name}`));
        return names.size === 5 && expected.every((e) => have.has(e)) ? [...names].sort() : undefined;
      },
      { timeoutMs: 10_000, what: 'spans from all five services in one trace' },
    );
    expect(services).toEqual(['vmcp-audit', 'vmcp-edge', 'vmcp-executor', 'vmcp-policy', 'vmcp-vault']);
    expect(bodies.join('')).not.toContain(SECRET);

    // Parent and child: each hop hangs under the span that caused it, up to the edge's root.
    // Retried until every service has exported the spans of the chains (each on its own schedule).
    const root = spans.find((s) => s.name === 'tools/call' && s.service === 'vmcp-edge')!;
    const checkTree = () => {
      const trace = spans.filter((s) => s.traceId === root.traceId);
      const byId = new Map(trace.map((s) => [s.spanId, s]));
      const parentOf = (s: OtlpSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
      const ancestry = (s: OtlpSpan & { service: string }) => {
        const chain: Array<OtlpSpan & { service: string }> = [];
        for (let p = parentOf(s) as (OtlpSpan & { service: string }) | undefined; p; p = parentOf(p) as typeof p) chain.push(p);
        return chain;
      };
      const only = (service: string, name: string) => {
        const found = trace.filter((s) => s.service === service && s.name === name);
        expect(found, `${service} ${name}`).toHaveLength(1);
        return found[0]!;
      };
      expect(root.parentSpanId ?? '').toBe('');

      const decideRequest = only('vmcp-edge', 'vmcp.policy.v1.decide request');
      const decide = only('vmcp-policy', 'vmcp.policy.v1.decide process');
      expect(parentOf(decideRequest)).toBe(root);
      expect(parentOf(decide)).toBe(decideRequest);

      const callRequest = only('vmcp-edge', 'vmcp.executor.v1.tools.call request');
      const call = only('vmcp-executor', 'vmcp.executor.v1.tools.call process');
      expect(parentOf(callRequest)).toBe(root);
      expect(parentOf(call)).toBe(callRequest);
      // Policy before effect: the executor is asked only after the decision came back.
      expect(BigInt(callRequest.startTimeUnixNano!)).toBeGreaterThanOrEqual(BigInt(decideRequest.endTimeUnixNano!));

      // The vault answers the executor (the only service allowed to ask it), under this call's trace.
      const resolves = trace.filter((s) => s.service === 'vmcp-vault' && s.name === 'vmcp.vault.v1.credentials.resolve process');
      expect(resolves.length).toBeGreaterThanOrEqual(1);
      for (const resolve of resolves) {
        const chain = ancestry(resolve);
        expect(chain[0]).toMatchObject({ service: 'vmcp-executor', name: 'vmcp.vault.v1.credentials.resolve request' });
        expect(chain.some((s) => s.service === 'vmcp-executor' && s.name.endsWith(' process'))).toBe(true);
        expect(chain.at(-1)).toBe(root);
      }
      for (const stored of trace.filter((s) => s.service === 'vmcp-audit' && s.name === 'audit.store')) expect(ancestry(stored).at(-1)).toBe(root);
      return true;
    };
    await waitFor(checkTree, { timeoutMs: 10_000, what: 'the complete span tree of the call' });

    // No attribute, event attribute or status message of any span holds a credential.
    for (const span of spans) {
      const values = [
        ...(span.attributes ?? []),
        ...(span.events ?? []).flatMap((e) => e.attributes ?? []),
      ].map((a) => JSON.stringify(a.value));
      values.push(span.status?.message ?? '', span.name);
      for (const value of values) for (const credential of credentials) expect(value, `${span.service} ${span.name}`).not.toContain(credential);
    }
  });
});
