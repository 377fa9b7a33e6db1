// What the tools/call benchmarks share: the SDK client, the timed echo loop, the HTTP
// upstream in its own process, and a vmcp tenant set up in front of it.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { api } from '@vmcp/testing';

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_CALLS = 300;
const CALL_TIMEOUT_MS = 10_000;

export async function connect(url, token) {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
  });
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** Ends the session as a well-behaved client does (DELETE; a stateless server answers 405), then closes. */
export async function disconnect({ client, transport }) {
  await transport.terminateSession().catch(() => undefined);
  await client.close().catch(() => undefined);
}

export async function disconnectAll(conns) {
  for (let i = 0; i < conns.length; i += 32) await Promise.all(conns.slice(i, i + 32).map(disconnect));
}

/** `each` echo calls on every connection, the connections at once, each one's calls one after another. */
export function echoCalls(conns, each, text = 'bench') {
  return Promise.all(
    conns.map(async (c) => {
      for (let i = 0; i < each; i++) await c.client.callTool({ name: 'echo', arguments: { text } });
    }),
  );
}

const TICK_MS = 1000 / 100; // USER_HZ: 100 on Linux

/**
 * User + system CPU milliseconds of a process so far (fields 14 and 15 of /proc/<pid>/stat).
 * A process that is gone (a service that died during the measurement) is named, not read as 0.
 */
export function cpuMs(pid, name = `process ${pid}`) {
  if (pid === process.pid) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT') throw new Error(`${name} (pid ${pid}) exited during the measurement; its log says why`);
    throw err;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * `concurrency` loops of echo calls for SECONDS after a warm-up, clients spread round-robin
 * over `urls`; calls/s and latency percentiles in ms.
 */
export async function measure(urls, token, concurrency) {
  const conns = await Promise.all(Array.from({ length: concurrency }, (_, i) => connect(urls[i % urls.length], token)));
  const call = (c, text) => c.client.callTool({ name: 'echo', arguments: { text } }, undefined, { timeout: CALL_TIMEOUT_MS });
  try {
    for (let i = 0; i < WARMUP_CALLS; i++) await call(conns[i % concurrency], 'warm');
    const latencies = [];
    let errors = 0;
    let firstError;
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    await Promise.all(
      conns.map(async (c) => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          try {
            const r = await call(c, 'bench');
            if (r.isError) throw new Error(r.content?.[0]?.text ?? 'isError');
          } catch (err) {
            errors++;
            firstError ??= err.message;
          }
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return { rps: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, firstError, calls: latencies.length };
  } finally {
    await disconnectAll(conns);
  }
}

/**
 * The HTTP upstream (bench/upstream-server.mjs) in its own process, so "direct" crosses a
 * process boundary as every other path does. `close` ends it and waits for its exit.
 */
export async function startUpstreamProcess() {
  const child = spawn(process.execPath, [new URL('./upstream-server.mjs', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
  // A bench that fails before its `finally` (the stack did not start) must not leave it running.
  process.once('exit', () => child.kill('SIGKILL'));
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`upstream exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid,
    close: () => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM')))),
  };
}

/** A tenant with the upstream as an `mcp` connection, one user's account, an echo-only config and a day-long token for that user. */
export async function benchTenant(stack, upstreamUrl, name = 'bench') {
  const admin = api(stack.baseUrl, stack.adminKey);
  const tenant = await admin.post('/api/v1/tenants', { name });
  const t = api(stack.baseUrl, tenant.body.api_key);
  await t.post('/api/v1/connections', { name: 'up', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstreamUrl } });
  await t.post('/api/v1/connected_accounts', {
    connection_name: 'up',
    identifier: 'bench-user',
    authorization_details: { static_auth: { token: 'bench-upstream-token' } },
  });
  const cfg = await t.post('/api/v1/mcp/configs', { name: 'bench', connection_tool_mappings: [{ connection_name: 'up', tools: ['echo'] }] });
  const tok = await t.post(`/api/v1/mcp/configs/${cfg.body.config.id}/tokens`, { identifier: 'bench-user', expiry_seconds: 86400 });
  return { token: tok.body.token, mcpServerUrl: tok.body.mcp_server_url, apiKey: tenant.body.api_key };
}
