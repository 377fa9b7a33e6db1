// Where each service's CPU goes during tools/call: a V8 CPU profile of each service, taken
// over the measured calls only (through the inspector, after a warm-up, so start-up and
// compilation are not in it), summed by function (self time) and by package.
//   node bench/profile-services.mjs            (BENCH_CALLS=3000, BENCH_CONCURRENCY=1;
//   BENCH_SERVICES=edge,executor to choose; BENCH_TOP=15 functions per service)
// Time per call is sampled CPU time, so it moves with the machine's speed as every CPU figure
// here does; the shares within one service move much less, and are what to compare.
import { freePort, startNatsServer, startStack } from '@vmcp/testing';
import { benchTenant, connect, disconnect, echoCalls, startUpstreamProcess } from './echo-bench.mjs';

const CALLS = Number(process.env.BENCH_CALLS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 1);
const SERVICES = (process.env.BENCH_SERVICES ?? 'edge,executor,audit').split(',');
const TOP = Number(process.env.BENCH_TOP ?? 15);
const WARMUP_CALLS = 1000;
const SAMPLING_INTERVAL_US = 250;

/** A Chrome DevTools Protocol session with one process's inspector (Node's global WebSocket). */
async function inspect(port) {
  const [target] = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`inspector on port ${port} refused the connection`));
  });
  let next = 0;
  const pending = new Map();
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    if (message.error) waiting.reject(new Error(message.error.message));
    else waiting.resolve(message.result);
  };
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = ++next;
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

/** Self time per function and per package, in µs of sampled CPU per call. */
function summarize(profile, calls) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  // Each sample's time is the gap to the next one.
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + delta);
  }
  const byFunction = new Map();
  const byPackage = new Map();
  let active = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    if (functionName === '(idle)') continue;
    active += us;
    const where = url.includes('node_modules/')
      ? url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+)\/.*/, '$1')
      : url.includes('/apps/') || url.includes('/libs/')
        ? url.replace(/.*\/((apps|libs)\/[^/]+)\/.*/, '$1')
        : url.startsWith('node:')
          ? 'node'
          : functionName || '(native)';
    const name = `${functionName || '(anonymous)'} ${url ? `${url.replace(/.*node_modules\//, '').replace(/.*\/((apps|libs)\/)/, '$1')}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    byPackage.set(where, (byPackage.get(where) ?? 0) + us);
  }
  const rows = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${(us / calls).toFixed(0).padStart(6)} µs ${((100 * us) / active).toFixed(1).padStart(5)} %  ${k}`);
  return { activeUsPerCall: active / calls, functions: rows(byFunction, TOP), packages: rows(byPackage, 8) };
}

const ports = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await freePort()])));
const nats = await startNatsServer();
const upstream = await startUpstreamProcess();
const stack = await startStack({
  natsUrl: nats.url,
  database: 'sqlite',
  serviceEnv: Object.fromEntries(SERVICES.map((s) => [s, { NODE_OPTIONS: `--inspect=127.0.0.1:${ports[s]}` }])),
});
const sessions = [];
try {
  const tenant = await benchTenant(stack, upstream.url);
  const conns = await Promise.all(Array.from({ length: CONCURRENCY }, () => connect(tenant.mcpServerUrl, tenant.token)));
  const call = (conn) => conn.client.callTool({ name: 'echo', arguments: { text: 'bench' } });
  for (let i = 0; i < WARMUP_CALLS; i++) await call(conns[i % CONCURRENCY]);
  for (const service of SERVICES) {
    const session = await inspect(ports[service]);
    sessions.push([service, session]);
    await session.send('Profiler.enable');
    await session.send('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
  }
  await Promise.all(sessions.map(([, s]) => s.send('Profiler.start')));
  const each = Math.ceil(CALLS / CONCURRENCY);
  await echoCalls(conns, each);
  const profiles = await Promise.all(sessions.map(async ([service, s]) => [service, (await s.send('Profiler.stop')).profile]));
  await Promise.all(conns.map(disconnect));

  const calls = each * CONCURRENCY;
  console.log(`\nsampled CPU per tools/call (echo) by function, ${calls} calls by ${CONCURRENCY} client(s) at once, ${process.version}`);
  for (const [service, profile] of profiles) {
    const { activeUsPerCall, functions, packages } = summarize(profile, calls);
    console.log(`\n${service}: ${activeUsPerCall.toFixed(0)} µs per call sampled; by package (self time):`);
    console.log(packages.join('\n'));
    console.log(`${service}: top ${TOP} functions (self time):`);
    console.log(functions.join('\n'));
  }
} finally {
  for (const [, s] of sessions) s.close();
  await stack.close();
  await upstream.close();
  await nats.stop();
}
