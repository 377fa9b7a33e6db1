import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConformance, startBearerProxy, type BearerProxy } from './conformance.js';
import { startConformanceUpstream, type ConformanceUpstream } from './conformance-upstream.js';

// The fixture must pass the whole suite on its own: then whatever fails through vmcp is
// vmcp's. Run through the bearer proxy, which the gateway's run depends on as well.

describe('conformance fixture upstream', () => {
  let upstream: ConformanceUpstream;
  let proxy: BearerProxy;
  const outDir = mkdtempSync(join(tmpdir(), 'vmcp-conformance-fixture-'));

  beforeAll(async () => {
    upstream = await startConformanceUpstream({ bearerToken: 'fixture-token-1' });
    proxy = await startBearerProxy(new URL(upstream.url).origin, 'fixture-token-1');
  });

  afterAll(async () => {
    await proxy?.close();
    await upstream?.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  it('passes every 2025-11-25 scenario, scored or not, with no baseline', { timeout: 60_000 }, async () => {
    const run = await runConformance({ url: `${proxy.url}/mcp`, requirements: '2025-11-25', outputDir: outDir, timeoutMs: 5000 });
    const notClean = run.scenarios.flatMap((s) => s.checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING').map((c) => `${s.scenario}:${c.id}`));
    expect(run.exitCode, run.output.split('\n').slice(-40).join('\n')).toBe(0);
    expect(run.scenarios.map((s) => s.scenario)).toEqual(expect.arrayContaining(['tools-call-sampling', 'resources-subscribe', 'server-sse-polling', 'dns-rebinding-protection']));
    expect(notClean).toEqual([]);
  });

  it('refuses a request without its bearer token', async () => {
    const res = await fetch(upstream.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(res.status).toBe(401);
  });
});
