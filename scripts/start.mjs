// `npm start`: the embedded default. Installs and builds if needed, finds or starts a
// NATS server, runs the five services as separate processes (SQLite in VMCP_DATA_DIR),
// and prints how to use them. Ctrl-C stops everything it started.
import { bootstrap, build, ROOT } from './bootstrap.mjs';

bootstrap(new URL(import.meta.url).pathname);
build();

const { spawn, spawnSync } = await import('node:child_process');
const { existsSync, mkdirSync, readFileSync, openSync } = await import('node:fs');
const { createConnection } = await import('node:net');
const { join, resolve } = await import('node:path');
const { createInterface } = await import('node:readline');

const SERVICES = ['policy', 'vault', 'executor', 'audit', 'edge'];
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const dataDir = resolve(process.env.VMCP_DATA_DIR ?? './.vmcp');
const httpPort = Number(process.env.VMCP_HTTP_PORT ?? 8080);
const publicUrl = (process.env.VMCP_PUBLIC_URL ?? `http://127.0.0.1:${httpPort}`).replace(/\/+$/, '');
const json = process.env.LOG_FORMAT === 'json';
const colors = { policy: 35, vault: 33, executor: 36, audit: 34, edge: 32, nats: 90 };
const tag = (name) => (process.stdout.isTTY ? `\x1b[${colors[name]}m${name.padEnd(8)}\x1b[0m` : name.padEnd(8));

function answers(host, port) {
  return new Promise((done) => {
    const s = createConnection({ host, port });
    s.once('connect', () => (s.destroy(), done(true)));
    s.once('error', () => done(false));
  });
}

const children = [];
let shuttingDown = false;
async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  // Services first (they drain in-flight calls), the NATS server we started last.
  const services = children.filter((c) => c.name !== 'nats');
  await Promise.all(services.map((c) => stopChild(c)));
  await Promise.all(children.filter((c) => c.name === 'nats').map((c) => stopChild(c)));
  process.exit(code);
}
function stopChild(c) {
  return new Promise((done) => {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) return done();
    c.proc.once('exit', () => done());
    c.proc.kill('SIGTERM');
    setTimeout(() => c.proc.kill('SIGKILL'), 10_000).unref();
  });
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

// NATS: use the one at NATS_URL, or start one if it is local and nats-server is installed.
const nats = new URL(natsUrl.replace(/^nats:/, 'http:'));
const natsHost = nats.hostname || '127.0.0.1';
const natsPort = Number(nats.port || 4222);
if (!(await answers(natsHost, natsPort))) {
  const local = ['127.0.0.1', 'localhost', '::1'].includes(natsHost);
  const found = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).stdout.trim();
  if (!local || !found) {
    console.error(
      `vmcp: no NATS server answers at ${natsUrl}.\n` +
        '  Install nats-server (https://nats.io; Debian: apt-get install nats-server) and run npm start again,\n' +
        '  or point NATS_URL at a NATS server with JetStream enabled.',
    );
    process.exit(1);
  }
  mkdirSync(join(dataDir, 'nats'), { recursive: true });
  const log = openSync(join(dataDir, 'nats', 'nats-server.log'), 'a');
  const proc = spawn(found, ['-a', natsHost === 'localhost' ? '127.0.0.1' : natsHost, '-p', String(natsPort), '-js', '-sd', join(dataDir, 'nats')], {
    stdio: ['ignore', log, log],
  });
  children.push({ name: 'nats', proc });
  for (let i = 0; i < 100 && !(await answers(natsHost, natsPort)); i++) await new Promise((r) => setTimeout(r, 100));
  console.log(`${tag('nats')} started nats-server with JetStream on ${natsHost}:${natsPort} (data and log in ${join(dataDir, 'nats')})`);
}

function pretty(name, line) {
  if (json) return `${tag(name)} ${line}`;
  try {
    const e = JSON.parse(line);
    const { level, msg, time: _t, service: _s, pid: _p, hostname: _h, context: _c, trace_id: _ti, span_id: _si, ...rest } = e;
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return `${tag(name)} ${String(level ?? '').padEnd(5)} ${msg ?? ''}${extra}`;
  } catch {
    return `${tag(name)} ${line}`;
  }
}

const env = { ...process.env, NATS_URL: natsUrl, VMCP_DATA_DIR: dataDir };
for (const name of SERVICES) {
  const proc = spawn(process.execPath, [join(ROOT, 'apps', name, 'dist', 'main.js')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push({ name, proc });
  for (const s of [proc.stdout, proc.stderr]) createInterface({ input: s }).on('line', (l) => console.log(pretty(name, l)));
  proc.once('exit', (code, signal) => {
    if (shuttingDown) return;
    console.error(`vmcp: ${name} exited (${signal ?? code}); stopping the others`);
    void shutdown(1);
  });
}

let ready = false;
for (let i = 0; i < 600 && !ready && !shuttingDown; i++) {
  ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then((r) => r.ok, () => false);
  if (!ready) await new Promise((r) => setTimeout(r, 100));
}
if (!ready) {
  console.error('vmcp: the services did not become ready within a minute; see the output above');
  await shutdown(1);
}

const adminKeyFile = join(dataDir, 'admin.key');
const adminKey = process.env.VMCP_ADMIN_KEY ?? (existsSync(adminKeyFile) ? readFileSync(adminKeyFile, 'utf8').trim() : '<VMCP_ADMIN_KEY>');
const generated = !process.env.VMCP_ADMIN_KEY;
console.log(`
vmcp is ready.
  management API   ${publicUrl}/api/v1   (reference: ${publicUrl}/openapi.json)
  MCP endpoints    ${publicUrl}/mcp/<config_id>
  admin key        ${adminKey}${generated ? `\n                   (dev keys were generated into ${dataDir}; set VMCP_ADMIN_KEY and VMCP_MASTER_KEY in production)` : ''}

Try it (needs curl and jq; replace the MCP server URL and token with real ones):

  API=${publicUrl}/api/v1
  KEY=$(curl -s -H "Authorization: Bearer ${adminKey}" -H 'content-type: application/json' \\
        -d '{"name":"acme"}' $API/tenants | jq -r .api_key)
  curl -s -H "Authorization: Bearer $KEY" -H 'content-type: application/json' $API/connections \\
        -d '{"name":"docs","connector":"mcp","auth_type":"bearer_token","settings":{"url":"https://mcp.example.com/mcp"}}'
  curl -s -H "Authorization: Bearer $KEY" -H 'content-type: application/json' $API/connected_accounts \\
        -d '{"connection_name":"docs","identifier":"user-42","authorization_details":{"static_auth":{"token":"<upstream token of user-42>"}}}'
  CFG=$(curl -s -H "Authorization: Bearer $KEY" -H 'content-type: application/json' $API/mcp/configs \\
        -d '{"name":"support-agent","connection_tool_mappings":[{"connection_name":"docs","tools":["*"]}]}' | jq -r .config.id)
  curl -s -H "Authorization: Bearer $KEY" -H 'content-type: application/json' $API/mcp/configs/$CFG/tokens \\
        -d '{"identifier":"user-42","expiry_seconds":3600}'

Then point an MCP client at the printed mcp_server_url with "Authorization: Bearer <token>":
  - MCP Inspector: npx @modelcontextprotocol/inspector  → transport "Streamable HTTP", the URL,
    and an Authorization header "Bearer <token>".
  - TypeScript SDK: new StreamableHTTPClientTransport(new URL(mcpServerUrl),
      { requestInit: { headers: { Authorization: \`Bearer \${token}\` } } })

Ctrl-C stops vmcp.
`);
