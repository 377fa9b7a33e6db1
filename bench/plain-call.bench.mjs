// What the edge's own answer to a plain tools/call saves (apps/edge/src/mcp/plain-call.ts),
// against the SDK server that answers every other request. One stack, one SDK client, two
// kinds of call in alternating batches: plain (name and arguments: the edge answers it) and
// with an empty `_meta` (the SDK answers it; nothing else differs). Alternating in one stack
// cancels most of this VM's drift, which moves whole runs by tens of percent.
//   node bench/plain-call.bench.mjs          (BENCH_ROUNDS=20 batches of BENCH_BATCH=200 each)
import { startNatsServer, startStack } from '@vmcp/testing';
import { benchTenant, connect, cpuMs, disconnect, percentile, startUpstreamProcess } from './echo-bench.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const BATCH = Number(process.env.BENCH_BATCH ?? 200);
const WARMUP_CALLS = 600;

const KINDS = { plain: {}, 'SDK (_meta: {})': { _meta: {} } };

const nats = await startNatsServer();
const upstream = await startUpstreamProcess();
const stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
try {
  const tenant = await benchTenant(stack, upstream.url);
  const conn = await connect(tenant.mcpServerUrl, tenant.token);
  const pids = stack.pids();
  const services = () => Object.values(pids).reduce((sum, pid) => sum + cpuMs(pid), 0);
  const call = (extra) => conn.client.callTool({ name: 'echo', arguments: { text: 'bench' }, ...extra });
  for (let i = 0; i < WARMUP_CALLS; i++) for (const extra of Object.values(KINDS)) await call(extra);

  const totals = Object.fromEntries(Object.keys(KINDS).map((k) => [k, { edgeMs: 0, servicesMs: 0, latencies: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [kind, extra] of Object.entries(KINDS)) {
      const edge0 = cpuMs(pids.edge);
      const services0 = services();
      for (let i = 0; i < BATCH; i++) {
        const started = performance.now();
        await call(extra);
        totals[kind].latencies.push(performance.now() - started);
      }
      totals[kind].edgeMs += cpuMs(pids.edge) - edge0;
      totals[kind].servicesMs += services() - services0;
    }
  }
  await disconnect(conn);

  const calls = ROUNDS * BATCH;
  console.log(`\ntools/call (echo) through one edge, ${calls} calls of each kind in alternating batches of ${BATCH}, ${process.version}`);
  console.log('kind             | edge CPU µs/call | five services CPU µs/call | p50 ms | p99 ms');
  for (const [kind, t] of Object.entries(totals)) {
    const sorted = t.latencies.sort((a, b) => a - b);
    console.log(
      `${kind.padEnd(16)} | ${((t.edgeMs * 1000) / calls).toFixed(0).padStart(16)} | ${((t.servicesMs * 1000) / calls).toFixed(0).padStart(25)} | ${percentile(sorted, 50).toFixed(2).padStart(6)} | ${percentile(sorted, 99).toFixed(2).padStart(6)}`,
    );
  }
} finally {
  await stack.close();
  await upstream.close();
  await nats.stop();
}
