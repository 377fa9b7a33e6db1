// CPU time each process spends per tools/call, direct and through vmcp: what a call costs
// the machine, read from /proc (user + system), so it hardly moves with the machine's load
// as wall-clock figures do. On 2 cores, 2,000 ms of CPU per second is the ceiling, so the sum
// per call bounds the throughput any concurrency can reach.
//   node bench/cpu-per-call.bench.mjs          (BENCH_CALLS=3000 for more calls;
//   BENCH_CONCURRENCY=16 for that many clients at once, where batching spreads some costs)
import { connect as natsConnect, headers as natsHeaders } from '@nats-io/transport-node';
import { busApi } from '@vmcp/contracts';
import { startNatsServer, startStack } from '@vmcp/testing';
import { benchTenant, connect, cpuMs, disconnect, echoCalls, startUpstreamProcess } from './echo-bench.mjs';

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 1);
const WARMUP_CALLS = 500;

/** CONCURRENCY clients making CALLS echo calls in all; CPU µs per call of each named process. */
async function perCall(url, token, pids) {
  const conns = await Promise.all(Array.from({ length: CONCURRENCY }, () => connect(url, token)));
  const call = (conn, text) => conn.client.callTool({ name: 'echo', arguments: { text } });
  const each = Math.ceil(CALLS / CONCURRENCY);
  try {
    for (let i = 0; i < WARMUP_CALLS; i++) await call(conns[i % CONCURRENCY], 'warm');
    const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid, k)]));
    const started = performance.now();
    await echoCalls(conns, each);
    const wallMs = performance.now() - started;
    const calls = each * CONCURRENCY;
    const rows = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, ((cpuMs(pid, k) - before[k]) * 1000) / calls]));
    return { rows, wallUsPerCall: (wallMs * 1000) / calls };
  } finally {
    await Promise.all(conns.map(disconnect));
  }
}

/** The tenant subscribes to its tool-call events (a bus API cursor, made and deleted: the mark stays), so the audit service publishes them. */
async function readToolCallEvents(natsUrl, apiKey) {
  const nc = await natsConnect({ servers: natsUrl });
  const h = natsHeaders();
  h.set(busApi.API_KEY_HEADER, apiKey);
  try {
    for (const [rpc, body] of [
      [busApi.pullEvents, { consumer: 'bench', types: ['tool_call.finished'], wait_ms: 0 }],
      [busApi.deleteEventConsumer, { consumer: 'bench' }],
    ]) {
      const reply = (await nc.request(rpc.subject, JSON.stringify(body), { headers: h, timeout: 5000 })).json();
      if (reply.error) throw new Error(`${rpc.subject}: ${reply.error.code}`);
    }
  } finally {
    await nc.close();
  }
}

const nats = await startNatsServer();
const upstream = await startUpstreamProcess();
const stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
try {
  const vmcp = await benchTenant(stack, upstream.url);
  const reader = await benchTenant(stack, upstream.url, 'bench-events');
  await readToolCallEvents(nats.url, reader.apiKey);
  const pids = () => ({ client: process.pid, ...stack.pids(), 'nats-server': nats.pid(), upstream: upstream.pid });
  const direct = await perCall(upstream.url, undefined, { client: process.pid, upstream: upstream.pid });
  // One round of each discarded first: the services' JIT would otherwise favour whichever runs second.
  await perCall(vmcp.mcpServerUrl, vmcp.token, pids());
  await perCall(reader.mcpServerUrl, reader.token, pids());
  const through = await perCall(vmcp.mcpServerUrl, vmcp.token, pids());
  const withEvents = await perCall(reader.mcpServerUrl, reader.token, pids());

  console.log(`\nCPU µs per tools/call (echo), ${CALLS} calls by ${CONCURRENCY} client(s) at once, ${process.version}`);
  console.log('"vmcp": a tenant that reads no tool-call events; "+ events": one that does (two events per call published and stored)');
  console.log('process      |   direct |     vmcp | + events');
  const names = [...new Set([...Object.keys(through.rows)])];
  let total = { direct: 0, vmcp: 0, events: 0 };
  const cell = (v) => (v === undefined ? '        -' : v.toFixed(0).padStart(8));
  for (const name of names) {
    const d = direct.rows[name];
    total.direct += d ?? 0;
    total.vmcp += through.rows[name];
    total.events += withEvents.rows[name];
    console.log(`${name.padEnd(12)} | ${cell(d)} | ${cell(through.rows[name])} | ${cell(withEvents.rows[name])}`);
  }
  console.log(`${'total'.padEnd(12)} | ${cell(total.direct)} | ${cell(total.vmcp)} | ${cell(total.events)}`);
  console.log(`${'wall / call'.padEnd(12)} | ${cell(direct.wallUsPerCall)} | ${cell(through.wallUsPerCall)} | ${cell(withEvents.wallUsPerCall)}`);
  console.log(`ceiling on 2 cores: direct ${Math.round(2e6 / total.direct)} calls/s, vmcp ${Math.round(2e6 / total.vmcp)} calls/s (${Math.round(2e6 / total.events)} with events)`);
} catch (err) {
  // A service that died: what it wrote last (a native abort prints no JSON line).
  for (const service of stack.exited()) {
    console.error(`${service} exited; its last lines:`);
    console.error(stack.logs().filter((line) => line.includes(`vmcp-${service}`) || !line.startsWith('{')).slice(-20).join('\n'));
  }
  throw err;
} finally {
  await stack.close();
  await upstream.close();
  await nats.stop();
}
