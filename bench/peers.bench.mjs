// vmcp against its peers: tools/call (echo) throughput and latency, and memory per 1,000
// idle sessions, for
//   direct        the SDK upstream over HTTP, in its own process (bench/upstream-server.mjs)
//   vmcp          the whole stack (five processes, NATS, SQLite) in front of that upstream
//   vmcp x2       the same with a second edge replica; clients spread round-robin over both
//   mcp-proxy     6.7.19, stateful Streamable HTTP, in front of the same tool over stdio
//   supergateway  4.0.0 --stateful, in front of the same tool over stdio
// with the same SDK client for all, at concurrency 1 and 16.
//   npm run bench                      (defaults: 5 s per case)
//   BENCH_SECONDS=10 node bench/peers.bench.mjs
//   BENCH_SG_SESSIONS=50               (supergateway idle sessions; it runs a child process per session)
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort, startNatsServer, startStack, waitFor } from '@vmcp/testing';
import { benchTenant, connect, disconnect, disconnectAll, measure, SECONDS, startUpstreamProcess } from './echo-bench.mjs';

const IDLE_SESSIONS = 1000;
// supergateway --stateful spawns one stdio child (a whole Node process) per session: 1,000 of
// them would need tens of GB on the development VM, so it opens fewer and scales to 1,000.
const SG_SESSIONS = Number(process.env.BENCH_SG_SESSIONS ?? 50);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const STDIO_UPSTREAM = [process.execPath, join(ROOT, 'bench', 'stdio-upstream.mjs')];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- processes: /proc is the source for pids, parents and RSS (Linux only) -------------

/** Parent pid of every live process, from /proc/<pid>/stat (the comm field may hold spaces). */
function parentsByPid() {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited while we looked
    }
  }
  return parents;
}

/** Every process below `root` (not `root` itself). */
function descendants(root) {
  const parents = parentsByPid();
  const found = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift();
    for (const [child, parent] of parents) {
      if (parent === pid) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** VmRSS in MB, 0 when the process is gone. */
function rssMb(pid) {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Sum of RSS of every process this benchmark started (shared pages count once per process). */
const allRssMb = () => descendants(process.pid).reduce((sum, pid) => sum + rssMb(pid), 0);

/** The stack's edge on `port`: a child of ours running apps/edge/dist/main.js with VMCP_HTTP_PORT=port. */
function edgePid(port) {
  for (const [pid, parent] of parentsByPid()) {
    if (parent !== process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (cmdline.includes(join('apps', 'edge', 'dist', 'main.js')) && environ.includes(`VMCP_HTTP_PORT=${port}`)) return pid;
    } catch {
      // exited while we looked
    }
  }
  return undefined;
}

// ---- the client side --------------------------------------------------------------------

/** `n` connections, 16 at a time; failures are counted, not thrown. */
async function connectMany(urls, token, n) {
  const open = [];
  let failed = 0;
  let firstError;
  for (let i = 0; i < n; i += 16) {
    await Promise.all(
      Array.from({ length: Math.min(16, n - i) }, (_, j) =>
        connect(urls[(i + j) % urls.length], token).then(
          (c) => void open.push(c),
          (err) => {
            failed++;
            firstError ??= err.message;
          },
        ),
      ),
    );
  }
  return { open, failed, firstError };
}

/**
 * RSS of `pid` (the gateway or edge) and of every process we started, before and after
 * `sessions` SDK clients connect and sit idle; the clients then end their sessions.
 */
async function idleSessions({ urls, token, sessions, pid }) {
  const before = { main: rssMb(pid), all: allRssMb() };
  const { open, failed, firstError } = await connectMany(urls, token, sessions);
  const withSessionId = open.filter((c) => c.transport.sessionId).length;
  await sleep(2000); // let the servers finish what the handshakes started
  const after = { main: rssMb(pid), all: allRssMb() };
  await disconnectAll(open);
  const per1000 = (mb) => (open.length ? (mb / open.length) * 1000 : NaN);
  return {
    sessions,
    connected: open.length,
    failed,
    firstError,
    withSessionId,
    before,
    after,
    mainPer1000: per1000(after.main - before.main),
    allPer1000: per1000(after.all - before.all),
  };
}

// ---- the systems under test -------------------------------------------------------------

const tcpOpen = (port) =>
  new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/** SIGTERM to the process, SIGKILL after 5 s, then SIGKILL to any descendant left (by pid). */
async function stopTree(child) {
  const below = descendants(child.pid);
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  for (const pid of below) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

const peers = new Set();

/** A gateway on a free port; ready once it accepts an MCP session (its first answers can race its start). */
async function startPeer(name, argsFor) {
  const port = await freePort();
  const child = spawn(process.execPath, argsFor(port), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  peers.add(child);
  const output = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      output.push(line);
      if (output.length > 40) output.shift();
    });
  }
  const url = `http://127.0.0.1:${port}/mcp`;
  try {
    await waitFor(() => (child.exitCode !== null ? Promise.reject(new Error(`exited with ${child.exitCode}`)) : tcpOpen(port)), {
      timeoutMs: 20_000,
      what: `${name} to listen`,
    });
    await waitFor(async () => (await disconnect(await connect(url)), true), { timeoutMs: 20_000, what: `${name} to accept a session` });
  } catch (err) {
    await stopTree(child);
    throw new Error(`${err.message}\n--- ${name} output ---\n${output.join('\n')}`);
  }
  return {
    url,
    pid: child.pid,
    async stop() {
      await stopTree(child);
      peers.delete(child);
    },
  };
}

const bin = (name) => join(ROOT, 'node_modules', '.bin', name);

const startMcpProxy = () =>
  startPeer('mcp-proxy', (port) => [bin('mcp-proxy'), '--port', String(port), '--host', '127.0.0.1', '--server', 'stream', '--', ...STDIO_UPSTREAM]);

// Stateless (the default) spawns a stdio child and initializes it for every HTTP request:
// about 1 s per call on the development VM, so not a gateway anyone would put under load.
// --stateful keeps one child per session, which is how it can serve repeated calls.
const startSupergateway = () =>
  startPeer('supergateway', (port) => [
    bin('supergateway'),
    '--stdio',
    STDIO_UPSTREAM.map((a) => `'${a}'`).join(' '),
    '--outputTransport',
    'streamableHttp',
    '--port',
    String(port),
    '--streamableHttpPath',
    '/mcp',
    '--stateful',
    '--logLevel',
    'none',
  ]);

// ---- the run ----------------------------------------------------------------------------

let nats;
let upstream;
let stack;
async function cleanup() {
  for (const child of [...peers]) await stopTree(child);
  peers.clear();
  await stack?.close().catch(() => undefined);
  stack = undefined;
  await upstream?.close().catch(() => undefined);
  upstream = undefined;
  await nats?.stop().catch(() => undefined);
  nats = undefined;
}
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void cleanup().finally(() => process.exit(130)));
// Last resort if the bench dies before cleanup (the stack's children have their own hook).
process.once('exit', () => {
  for (const child of peers) {
    for (const pid of [...descendants(child.pid), child.pid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

const log = (line) => console.log(`  ${new Date().toISOString().slice(11, 19)} ${line}`);
const results = []; // { target, concurrency, m }
const memory = new Map(); // target -> idleSessions result
async function cases(target, urls, token) {
  for (const concurrency of [1, 16]) {
    log(`${target}, concurrency ${concurrency}`);
    results.push({ target, concurrency, m: await measure(urls, token, concurrency) });
  }
}

const startedAt = performance.now();
const loadAtStart = loadavg()[0];
try {
  nats = await startNatsServer();
  upstream = await startUpstreamProcess();
  stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
  const replica = await stack.startEdgeReplica();
  const { token, mcpServerUrl: vmcpUrl } = await benchTenant(stack, upstream.url);
  // Tokens name the stack's public URL; the replica shares it, so the same token works there.
  const replicaUrl = vmcpUrl.replace(stack.publicUrl, replica.url);

  await cases('direct', [upstream.url]);
  await cases('vmcp, 1 edge', [vmcpUrl], token);
  await cases('vmcp, 2 edges', [vmcpUrl, replicaUrl], token);

  const edge = edgePid(new URL(stack.publicUrl).port);
  log(`vmcp: ${IDLE_SESSIONS} idle sessions on one edge (pid ${edge ?? 'not found'})`);
  if (edge) memory.set('vmcp, 1 edge', await idleSessions({ urls: [vmcpUrl], token: token, sessions: IDLE_SESSIONS, pid: edge }));
  await cleanup(); // the peers get the machine to themselves, as vmcp had it

  const proxy = await startMcpProxy();
  await cases('mcp-proxy', [proxy.url]);
  log(`mcp-proxy: ${IDLE_SESSIONS} idle sessions`);
  memory.set('mcp-proxy', await idleSessions({ urls: [proxy.url], sessions: IDLE_SESSIONS, pid: proxy.pid }));
  await proxy.stop();

  const sg = await startSupergateway();
  await cases('supergateway', [sg.url]);
  log(`supergateway: ${SG_SESSIONS} idle sessions (one child process each)`);
  memory.set('supergateway', await idleSessions({ urls: [sg.url], sessions: SG_SESSIONS, pid: sg.pid }));
  await sg.stop();
} finally {
  await cleanup();
}

// ---- the report -------------------------------------------------------------------------

const f = (n, d = 2, w = 9) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a').padStart(w);
const mem = (r) => (r ? `${f(r.mainPer1000, 1, 7)} / ${f(r.allPer1000, 1, 7)}` : '');
console.log(
  `\nvmcp vs peers: tools/call (echo), ${SECONDS} s per case, ${process.version}, ${cpus().length} cores, ` +
    `${((performance.now() - startedAt) / 1000).toFixed(0)} s in all, 1-min load average ${loadAtStart.toFixed(1)} at start and ` +
    `${loadavg()[0].toFixed(1)} at end`,
);
console.log('target         | conc |  calls/s |   p50 ms |   p99 ms | errors | idle sessions: MB per 1,000 (process / all processes)');
for (const { target, concurrency, m } of results) {
  const r = concurrency === 1 ? memory.get(target) : undefined;
  console.log(`${target.padEnd(14)} | ${String(concurrency).padStart(4)} |${f(m.rps, 0)} |${f(m.p50)} |${f(m.p99)} | ${String(m.errors).padStart(6)} | ${mem(r)}`);
}
for (const { target, concurrency, m } of results) if (m.errors) console.log(`  ${target} at ${concurrency}: first error: ${m.firstError}`);

console.log('\nidle sessions (RSS from /proc/<pid>/status; "all processes" sums every process the bench started for that target):');
for (const [target, r] of memory) {
  console.log(
    `  ${target}: ${r.connected} of ${r.sessions} connected (${r.failed} failed${r.firstError ? `: ${r.firstError}` : ''}), ` +
      `${r.withSessionId} with an Mcp-Session-Id; process ${r.before.main.toFixed(1)} -> ${r.after.main.toFixed(1)} MB, ` +
      `all ${r.before.all.toFixed(1)} -> ${r.after.all.toFixed(1)} MB` +
      (r.sessions !== IDLE_SESSIONS ? `; scaled from ${r.connected} to 1,000` : ''),
  );
  if (r.connected && !r.withSessionId) {
    console.log(`    no Mcp-Session-Id: ${target} kept no session, so its growth is heap and buffers left from serving the handshakes, not session state`);
  }
}

const row = (target, c) => results.find((r) => r.target === target && r.concurrency === c)?.m;
console.log('\nnotes:');
console.log('  vmcp authenticates every request (session token), applies the policy decision, resolves the upstream credential');
console.log('  from the vault and audits each call before and after; mcp-proxy and supergateway do no auth, policy, vault or audit.');
console.log('  direct and vmcp reach the upstream over HTTP; the peers wrap the same echo tool over stdio (bench/stdio-upstream.mjs).');
console.log('  vmcp, 2 edges: clients alternate between the two replicas, so at concurrency 1 the one client uses one replica.');
console.log('  supergateway runs --stateful: its default stateless mode spawns and initializes a stdio child for every HTTP');
console.log(`  request (about 1 s per call); stateful keeps one child per session, so its idle sessions are ${SG_SESSIONS} Node processes`);
console.log('  scaled to 1,000. mcp-proxy runs as shipped (stateful, event store on) with one shared stdio child.');

console.log('\ntargets (issue):');
for (const c of [1, 16]) {
  const best = ['mcp-proxy', 'supergateway'].map((p) => ({ p, m: row(p, c) })).filter((x) => x.m).sort((a, b) => b.m.rps - a.m.rps)[0];
  for (const target of ['vmcp, 1 edge', 'vmcp, 2 edges']) {
    const m = row(target, c);
    if (!m || !best) continue;
    const ok = m.rps >= best.m.rps;
    console.log(`  concurrency ${String(c).padStart(2)}: ${target} ${m.rps.toFixed(0)} calls/s vs best peer (${best.p}) ${best.m.rps.toFixed(0)}: ${ok ? 'met' : 'NOT met'} (${((m.rps / best.m.rps) * 100).toFixed(0)} %)`);
  }
}
const direct1 = row('direct', 1);
const vmcp1 = row('vmcp, 1 edge', 1);
if (direct1 && vmcp1) {
  const added = vmcp1.p50 - direct1.p50;
  console.log(`  added p50 at concurrency 1, vmcp vs direct: +${added.toFixed(2)} ms (target <= 1 ms): ${added <= 1 ? 'met' : 'NOT met'}`);
}
