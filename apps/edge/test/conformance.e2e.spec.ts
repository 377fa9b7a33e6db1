import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  api,
  runConformance,
  startBearerProxy,
  startConformanceUpstream,
  startNatsServer,
  startStack,
  type BearerProxy,
  type ConformanceRun,
  type ConformanceUpstream,
  type NatsServerHandle,
  type Stack,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The official MCP conformance suite (@modelcontextprotocol/conformance, pinned) run
// through vmcp: the suite is the agent, the SDK-built fixture server is the upstream, and
// every scenario's fixture is exposed unrenamed by one config (`["*"]`, no prefix). The
// suite cannot send an Authorization header, so a loopback proxy adds the session token
// and forwards the rest as sent. What vmcp does not pass yet is in conformance/baseline*.yml
// with its reason; the suite fails on anything else, and on a baseline entry that passes.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const UPSTREAM_TOKEN = 'conformance-upstream-token-3f8a61';

describe('MCP conformance suite through vmcp', () => {
  let nats: NatsServerHandle;
  let upstream: ConformanceUpstream;
  let stack: Stack;
  let proxy: BearerProxy;
  let mcpUrl: string;
  const outDir = mkdtempSync(join(tmpdir(), 'vmcp-conformance-'));

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startConformanceUpstream({ bearerToken: UPSTREAM_TOKEN });
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
    const admin = api(stack.baseUrl, stack.adminKey);
    const tenant = await admin.post<{ api_key: string }>('/api/v1/tenants', { name: 'conformance' });
    expect(tenant.status).toBe(201);
    const t = api(stack.baseUrl, tenant.body.api_key);
    expect(
      (await t.post('/api/v1/connections', { name: 'suite', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } })).status,
    ).toBe(201);
    const account = await t.post('/api/v1/connected_accounts', {
      connection_name: 'suite',
      identifier: 'conformance',
      authorization_details: { static_auth: { token: UPSTREAM_TOKEN } },
    });
    expect(account.status).toBe(201);
    const cfg = await t.post<{ config: { id: string } }>('/api/v1/mcp/configs', {
      name: 'conformance',
      connection_tool_mappings: [{ connection_name: 'suite', tools: ['*'] }],
    });
    expect(cfg.status).toBe(201);
    const token = await t.post<{ token: string }>(`/api/v1/mcp/configs/${cfg.body.config.id}/tokens`, { identifier: 'conformance' });
    expect(token.status).toBe(201);
    proxy = await startBearerProxy(stack.baseUrl, token.body.token);
    mcpUrl = `${proxy.url}/mcp/${cfg.body.config.id}`;
  });

  afterAll(async () => {
    await proxy?.close();
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
    rmSync(outDir, { recursive: true, force: true });
  });

  const explain = (run: ConformanceRun) =>
    `conformance exited ${run.exitCode}; failing checks:\n  ${run.failures.join('\n  ') || '(none)'}\n--- suite output (tail) ---\n${run.output.split('\n').slice(-60).join('\n')}`;

  /**
   * A requirement set also runs scenarios it does not score (added after the release, or
   * pending), and a baseline does not cover those; the ones vmcp passes must keep passing.
   */
  const unscoredFailures = (run: ConformanceRun, scenarios: readonly string[]) =>
    scenarios.flatMap((name) => {
      const result = run.scenarios.find((s) => s.scenario === name);
      if (!result) return [`${name}: did not run`];
      return result.checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING').map((c) => `${name}:${c.id} ${c.status} ${c.errorMessage ?? ''}`);
    });

  it('passes the 2025-11-25 requirements, apart from the baseline', { timeout: 60_000 }, async () => {
    const run = await runConformance({
      url: mcpUrl,
      requirements: '2025-11-25',
      expectedFailures: join(ROOT, 'conformance', 'baseline.yml'),
      outputDir: join(outDir, '2025-11-25'),
      timeoutMs: 5000,
    });
    expect(run.scenarios.length, explain(run)).toBeGreaterThanOrEqual(30);
    expect(run.exitCode, explain(run)).toBe(0);
    expect(unscoredFailures(run, ['server-session-lifecycle', 'json-schema-2020-12']), explain(run)).toEqual([]);
  });

  it('passes the 2026-07-28 requirements, apart from their baseline', { timeout: 60_000 }, async () => {
    const run = await runConformance({
      url: mcpUrl,
      requirements: '2026-07-28',
      expectedFailures: join(ROOT, 'conformance', 'baseline-2026-07-28.yml'),
      outputDir: join(outDir, '2026-07-28'),
      timeoutMs: 5000,
    });
    expect(run.scenarios.length, explain(run)).toBeGreaterThanOrEqual(37);
    expect(run.exitCode, explain(run)).toBe(0);
    expect(unscoredFailures(run, ['json-schema-2020-12', 'http-header-validation']), explain(run)).toEqual([]);
  });
});
