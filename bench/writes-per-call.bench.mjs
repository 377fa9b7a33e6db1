// System calls each vmcp process makes per tools/call, counted by `strace -c -f`:
// socket writes above all (on loopback a write also does the receiver's TCP work, and wakes
// it). Counts, unlike CPU times, hardly move with the VM's load, so a change to how the
// services write shows here run after run.
//   node bench/writes-per-call.bench.mjs     (BENCH_CONCURRENCY, default 16; BENCH_CALLS, default 2000)
import { spawn, spawnSync } from 'node:child_process';
import { startNatsServer, startStack } from '@vmcp/testing';
import { benchTenant, connect, disconnectAll, echoCalls, startUpstreamProcess } from './echo-bench.mjs';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const WRITES = new Set(['write', 'writev', 'sendmsg', 'sendto', 'sendmmsg', 'pwrite64']);

if (spawnSync('strace', ['-V']).error) {
  console.log('strace is not installed: writes-per-call skipped');
  process.exit(0);
}

/** `strace -c -f` on a running process until stopped; resolves to {syscall: count}. */
function trace(pid) {
  const child = spawn('strace', ['-c', '-f', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d) => (out += d));
  const done = new Promise((resolve) =>
    // 'close', not 'exit': the table is the last thing strace writes, and may still be in the pipe at exit.
    child.once('close', () => {
      const counts = {};
      // % time, seconds, usecs/call, calls, [errors,] syscall
      for (const m of out.matchAll(/^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/gm)) if (m[2] !== 'total') counts[m[2]] = Number(m[1]);
      resolve(counts);
    }),
  );
  // SIGINT prints the table; a strace that does not exit by then is killed (its process is detached).
  const stop = () => {
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    return done.finally(() => clearTimeout(timer));
  };
  return { stop };
}

const nats = await startNatsServer();
const upstream = await startUpstreamProcess();
const stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
try {
  const tenant = await benchTenant(stack, upstream.url);
  const conns = await Promise.all(Array.from({ length: CONCURRENCY }, () => connect(tenant.mcpServerUrl, tenant.token)));
  const each = Math.ceil(CALLS / CONCURRENCY);
  await echoCalls(conns, 50);
  // vmcp's own processes: tracing nats-server's goroutines as well slowed the run severalfold.
  const pids = stack.pids();
  const tracers = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, trace(pid)]));
  // strace attaches within a moment; calls made before it does are simply not counted.
  await new Promise((r) => setTimeout(r, 1500));
  await echoCalls(conns, each);
  const counted = each * CONCURRENCY;
  const results = Object.fromEntries(await Promise.all(Object.entries(tracers).map(async ([name, t]) => [name, await t.stop()])));
  await disconnectAll(conns);

  console.log(`\nsyscalls per tools/call (echo) through vmcp, ${counted} calls by ${CONCURRENCY} client(s) at once, ${process.version}`);
  console.log('process      |   writes |   all | most frequent');
  for (const [name, counts] of Object.entries(results)) {
    const per = (n) => n / counted;
    const writes = Object.entries(counts).filter(([s]) => WRITES.has(s)).reduce((a, [, n]) => a + n, 0);
    const all = Object.values(counts).reduce((a, n) => a + n, 0);
    const top = Object.entries(counts).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([s, n]) => `${s} ${per(n).toFixed(2)}`).join(', ');
    console.log(`${name.padEnd(12)} | ${per(writes).toFixed(2).padStart(8)} | ${per(all).toFixed(1).padStart(5)} | ${top}`);
  }
} finally {
  await stack.close();
  await upstream.close();
  await nats.stop();
}
