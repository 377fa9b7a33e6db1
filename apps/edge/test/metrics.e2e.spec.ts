import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  api,
  parsePrometheusText,
  SERVICES,
  startNatsServer,
  startStack,
  startUpstreamMcpServer,
  waitFor,
  type NatsServerHandle,
  type PrometheusScrape,
  type Service,
  type Stack,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError, connectAgent } from './mcp-client.js';

// What an operator scrapes: every service's /metrics in the Prometheus text format, with
// counters that follow real calls and labels that never carry a credential or an
// identifier; and /readyz that turns 503, naming the check, when NATS goes away.

const SECRET = 'metrics-upstream-secret-5b7e21';
const IDENTIFIER = 'metrics-user-9c4d';
const ARGUMENT = 'metrics-argument-text-e83f';

describe('metrics and readiness', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let client: Client;
  /** Every value a label must never hold: credentials, keys, tokens, ids, the user, the arguments. */
  const forbidden: string[] = [SECRET, IDENTIFIER, ARGUMENT];

  const scrape = async (service: Service): Promise<{ text: string; parsed: PrometheusScrape }> => {
    const res = await fetch(`${stack.healthUrl(service)}/metrics`);
    expect(res.status, `${service} /metrics`).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    // Strict: throws on anything a Prometheus server would not ingest.
    return { text, parsed: parsePrometheusText(text) };
  };
  const readyz = async (service: Service) => {
    const res = await fetch(`${stack.healthUrl(service)}/readyz`);
    return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, boolean>; failing?: string[] } };
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
    forbidden.push(stack.adminKey);

    const admin = api(stack.baseUrl, stack.adminKey);
    const tenant = (await admin.post('/api/v1/tenants', { name: 'metered' })).body as { api_key: string; tenant: { id: string } };
    forbidden.push(tenant.api_key, tenant.tenant.id);
    const t = api(stack.baseUrl, tenant.api_key);
    expect((await t.post('/api/v1/connections', { name: 'up', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } })).status).toBe(201);
    const account = await t.post('/api/v1/connected_accounts', { connection_name: 'up', identifier: IDENTIFIER, authorization_details: { static_auth: { token: SECRET } } });
    expect(account.status).toBe(201);
    forbidden.push((account.body as { connected_account: { id: string } }).connected_account.id);
    const cfg = (await t.post('/api/v1/mcp/configs', { name: 'metered', connection_tool_mappings: [{ connection_name: 'up', tools: ['echo', 'fail'] }] })).body as {
      config: { id: string; mcp_server_url: string };
    };
    forbidden.push(cfg.config.id);
    const tok = (await t.post(`/api/v1/mcp/configs/${cfg.config.id}/tokens`, { identifier: IDENTIFIER })).body as { token: string; token_id: string };
    forbidden.push(tok.token, tok.token_id);
    client = await connectAgent(cfg.config.mcp_server_url, tok.token);
  });

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('counts allowed and denied calls on every service, with bounded labels only', async () => {
    await client.callTool({ name: 'echo', arguments: { text: ARGUMENT } });
    await client.callTool({ name: 'echo', arguments: { text: ARGUMENT } });
    await client.callTool({ name: 'fail', arguments: {} }); // the upstream answers isError
    expect(await callError(client, 'not_mapped_anywhere', { text: ARGUMENT })).toMatchObject({ code: 'TOOL_NOT_FOUND' });
    expect(await callError(client, 'echo', { text: 42 })).toMatchObject({ code: 'INVALID_ARGUMENT' });

    const edge = (await scrape('edge')).parsed;
    const calls = (labels: Record<string, string>) => edge.sum('vmcp_tool_calls_total', labels);
    expect(calls({ tool: 'echo', connector: 'mcp', status: 'SUCCESS', decision: 'allow' })).toBe(2);
    expect(calls({ tool: 'fail', connector: 'mcp', status: 'ERROR', decision: 'allow' })).toBe(1);
    expect(calls({ tool: 'echo', connector: 'mcp', status: 'DENIED', decision: 'deny' })).toBe(1);
    // The name the agent made up is not a label: the refusal counts as "unresolved".
    expect(calls({ tool: 'unresolved', connector: 'none', status: 'DENIED', decision: 'deny' })).toBe(1);
    expect(edge.types.get('vmcp_tool_call_duration_seconds')).toBe('histogram');
    // Policy decided three calls; the second echo and the bad-arguments echo were served
    // from the edge's copy of the first echo's allow (arguments checked at the edge).
    expect(edge.sum('vmcp_tool_call_duration_seconds_count', { hop: 'decide' })).toBe(3);
    expect(edge.sum('vmcp_edge_cache_lookups_total', { kind: 'decision', result: 'hit' })).toBe(2);
    expect(edge.sum('vmcp_edge_cache_lookups_total', { kind: 'decision', result: 'miss' })).toBe(3);
    expect(edge.sum('vmcp_tool_call_duration_seconds_count', { hop: 'audit_started' })).toBe(3);
    expect(edge.sum('vmcp_tool_call_duration_seconds_count', { hop: 'execute' })).toBe(3);
    expect(edge.sum('vmcp_tool_call_duration_seconds_count', { hop: 'total' })).toBe(5);
    expect(edge.sum('vmcp_http_requests_total', { method: 'POST', route: '/mcp/:configId', status: '200' })).toBeGreaterThanOrEqual(5);
    expect(edge.sum('vmcp_http_requests_total', { method: 'POST', route: '/api/v1/connections', status: '201' })).toBe(1);
    expect(edge.sum('vmcp_nats_request_duration_seconds_count', { subject: 'vmcp.policy.v1.decide' })).toBe(3);
    expect(edge.sum('vmcp_nats_request_duration_seconds_count', { subject: 'vmcp.executor.v1.tools.call' })).toBe(3);

    const policy = (await scrape('policy')).parsed;
    expect(policy.sum('vmcp_nats_handler_duration_seconds_count', { subject: 'vmcp.policy.v1.decide', code: 'OK' })).toBe(3);

    const executor = (await scrape('executor')).parsed;
    expect(executor.sum('vmcp_executor_upstream_call_duration_seconds_count', { connector: 'mcp', result: 'ok' })).toBe(2);
    expect(executor.sum('vmcp_executor_upstream_call_duration_seconds_count', { connector: 'mcp', result: 'tool_error' })).toBe(1);
    expect(executor.sum('vmcp_executor_upstream_sessions', { connector: 'mcp' })).toBe(1);
    expect(executor.sum('vmcp_nats_request_duration_seconds_count', { subject: 'vmcp.vault.v1.credentials.resolve' })).toBe(1);

    const vault = (await scrape('vault')).parsed;
    expect(vault.sum('vmcp_vault_credential_decrypts_total', { auth_type: 'bearer_token', result: 'ok' })).toBe(1);
    expect(vault.sum('vmcp_nats_handler_duration_seconds_count', { subject: 'vmcp.vault.v1.credentials.resolve', code: 'OK' })).toBe(1);

    // Three calls got a "started" and a "finished" record, two refusals a "denied" one.
    const audit = await waitFor(
      async () => {
        const { parsed } = await scrape('audit');
        return parsed.sum('vmcp_audit_events_written_total') >= 8 && parsed.find('vmcp_audit_consumer_pending_messages').length === 1 ? parsed : undefined;
      },
      { timeoutMs: 15_000, what: 'the audit writer to store 8 events and report its lag' },
    );
    expect(audit.sum('vmcp_audit_events_written_total')).toBe(8);
    expect(audit.sum('vmcp_audit_write_batch_size_events_count')).toBeGreaterThanOrEqual(1);
    expect(audit.find('vmcp_audit_consumer_pending_messages')[0]!.value).toBeGreaterThanOrEqual(0);

    for (const service of SERVICES) {
      const { text, parsed } = await scrape(service);
      expect(parsed.find('target_info')[0]?.labels.service_name).toBe(`vmcp-${service}`);
      for (const value of forbidden) expect(text, `${service} /metrics holds a secret or identifier`).not.toContain(value);
      for (const sample of parsed.samples) {
        for (const [label, value] of Object.entries(sample.labels)) {
          expect(value, `${service} ${sample.name}{${label}}`).not.toMatch(/^(ten|key|conn|ca|cfg|tok|exe|evt|rot)_[0-9A-Za-z]{8,}/);
          expect(value.length, `${service} ${sample.name}{${label}}`).toBeLessThanOrEqual(96);
        }
      }
    }
  });

  it('answers /readyz 503 naming the nats check while NATS is down, and 200 once it is back', async () => {
    for (const service of SERVICES) {
      const { status, body } = await readyz(service);
      expect(status, `${service} /readyz: ${JSON.stringify(body)}`).toBe(200);
    }
    expect((await readyz('audit')).body.checks).toMatchObject({ nats: true, database: true, consumer: true });
    expect((await readyz('edge')).body.checks).toMatchObject({ nats: true, audit_stream: true });

    await nats.halt();
    try {
      for (const service of SERVICES) {
        const { body } = await waitFor(
          async () => {
            const r = await readyz(service);
            return r.status === 503 ? r : undefined;
          },
          { timeoutMs: 10_000, what: `${service} /readyz to turn 503` },
        );
        expect(body.status).toBe('not_ready');
        expect(body.checks.nats, service).toBe(false);
        expect(body.failing, service).toContain('nats');
      }
      // Metrics do not depend on the bus: an outage is exactly when they are read.
      expect((await fetch(`${stack.healthUrl('policy')}/metrics`)).status).toBe(200);
    } finally {
      await nats.restart();
    }
    for (const service of SERVICES) {
      await waitFor(async () => (await readyz(service)).status === 200, { timeoutMs: 20_000, what: `${service} /readyz to be 200 again` });
    }
  });
});
