// tools/call throughput and latency: direct to an SDK upstream vs through the full vmcp
// stack (five processes, NATS, SQLite) to the same upstream, same client, same machine.
//   npm run bench                      (defaults: 5 s per case)
//   BENCH_SECONDS=10 npm run bench
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { api, startNatsServer, startStack } from '@vmcp/testing';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_CALLS = 300;

async function connect(url, token) {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
    }),
  );
  return client;
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `concurrency` loops of echo calls for SECONDS; returns calls/s and latency percentiles in ms. */
async function measure(url, token, concurrency) {
  const clients = await Promise.all(Array.from({ length: concurrency }, () => connect(url, token)));
  for (let i = 0; i < WARMUP_CALLS; i++) await clients[i % concurrency].callTool({ name: 'echo', arguments: { text: 'warm' } });
  const latencies = [];
  let errors = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          const r = await client.callTool({ name: 'echo', arguments: { text: 'bench' } });
          if (r.isError) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(clients.map((c) => c.close()));
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, calls: latencies.length };
}

/** The upstream runs in its own process, so "direct" crosses a process boundary as vmcp's hops do. */
async function startUpstreamProcess() {
  const child = spawn(process.execPath, [new URL('./upstream-server.mjs', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`upstream exited with ${code}`)));
  });
  return { url, close: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) };
}

const nats = await startNatsServer();
const upstream = await startUpstreamProcess();
const stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
try {
  const admin = api(stack.baseUrl, stack.adminKey);
  const tenant = await admin.post('/api/v1/tenants', { name: 'bench' });
  const t = api(stack.baseUrl, tenant.body.api_key);
  await t.post('/api/v1/connections', { name: 'up', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } });
  await t.post('/api/v1/connected_accounts', {
    connection_name: 'up',
    identifier: 'bench-user',
    authorization_details: { static_auth: { token: 'bench-upstream-token' } },
  });
  const cfg = await t.post('/api/v1/mcp/configs', { name: 'bench', connection_tool_mappings: [{ connection_name: 'up', tools: ['echo'] }] });
  const tok = await t.post(`/api/v1/mcp/configs/${cfg.body.config.id}/tokens`, { identifier: 'bench-user', expiry_seconds: 86400 });

  const rows = [];
  for (const concurrency of [1, 16]) {
    const direct = await measure(upstream.url, undefined, concurrency);
    const vmcp = await measure(tok.body.mcp_server_url, tok.body.token, concurrency);
    rows.push({ concurrency, direct, vmcp });
  }
  const f = (n, d = 2) => n.toFixed(d).padStart(9);
  console.log(`\ntools/call (echo), ${SECONDS} s per case, ${process.version}, ${(await import('node:os')).cpus().length} cores`);
  console.log('concurrency | path   |  calls/s |  p50 ms  |  p99 ms  | errors');
  for (const r of rows) {
    for (const [name, m] of [['direct', r.direct], ['vmcp', r.vmcp]]) {
      console.log(`${String(r.concurrency).padStart(11)} | ${name.padEnd(6)} |${f(m.rps, 0)} |${f(m.p50)} |${f(m.p99)} | ${m.errors}`);
    }
    console.log(
      `${''.padStart(11)} | ratio  | ${((r.vmcp.rps / r.direct.rps) * 100).toFixed(0).padStart(6)} % | +${(r.vmcp.p50 - r.direct.p50).toFixed(2)} ms added p50`,
    );
  }
  console.log('targets: vmcp >= 50 % of direct calls/s at 16 concurrent; <= 1 ms added p50 at concurrency 1');
} finally {
  await stack.close();
  await upstream.close();
  await nats.stop();
}
