// tools/call throughput and latency: direct to an SDK upstream vs through the full vmcp
// stack (five processes, NATS, SQLite) to the same upstream, same client, same machine.
//   npm run bench                      (defaults: 5 s per case)
//   BENCH_SECONDS=10 npm run bench
import { cpus } from 'node:os';
import { startNatsServer, startStack } from '@vmcp/testing';
import { benchTenant, measure, SECONDS, startUpstreamProcess } from './echo-bench.mjs';

const nats = await startNatsServer();
const upstream = await startUpstreamProcess();
const stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
try {
  const vmcp = await benchTenant(stack, upstream.url);

  const rows = [];
  for (const concurrency of [1, 16]) {
    rows.push({
      concurrency,
      direct: await measure([upstream.url], undefined, concurrency),
      vmcp: await measure([vmcp.mcpServerUrl], vmcp.token, concurrency),
    });
  }
  const f = (n, d = 2) => n.toFixed(d).padStart(9);
  console.log(`\ntools/call (echo), ${SECONDS} s per case, ${process.version}, ${cpus().length} cores`);
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
