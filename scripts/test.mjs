// `npm test`: makes sure NATS (JetStream) and PostgreSQL answer, building what they need
// only if missing, builds the project, runs the whole vitest suite and ends with one
// line "N passed, N failed".
import { bootstrap, build, ROOT, run } from './bootstrap.mjs';

bootstrap(new URL(import.meta.url).pathname);

const { createConnection } = await import('node:net');
const { existsSync, readFileSync, readdirSync, rmSync } = await import('node:fs');
const { join } = await import('node:path');
const { spawnSync } = await import('node:child_process');

function answers(port) {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function waitPort(port, what) {
  for (let i = 0; i < 100; i++) {
    if (await answers(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  console.error(`vmcp test: ${what} did not come up on 127.0.0.1:${port}`);
  process.exit(1);
}

if (!(await answers(4222))) {
  console.log('vmcp test: starting nats-server (JetStream) on 127.0.0.1:4222');
  run('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', '/usr/sbin/nats-server', '--',
    '-a', '127.0.0.1', '-p', '4222', '-js', '-sd', '/var/lib/nats-server', '-l', '/var/log/nats-server.log']);
  await waitPort(4222, 'NATS');
}
if (!(await answers(5432))) {
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
  console.log('vmcp test: starting PostgreSQL on 127.0.0.1:5432');
  for (const v of versions) run('pg_ctlcluster', ['--skip-systemctl-redirect', v, 'main', 'start']);
  await waitPort(5432, 'PostgreSQL');
}
const exists = spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-tAc', "SELECT 1 FROM pg_database WHERE datname = 'test'"], { encoding: 'utf8' });
if (exists.status === 0 && exists.stdout.trim() !== '1') {
  run('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-c', 'CREATE DATABASE test']);
}

build();

const report = join(ROOT, 'tmp', 'test-results.json');
rmSync(report, { force: true });
const status = run(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...process.argv.slice(2)]);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests ?? 0;
  failed = (r.numFailedTests ?? 0) + (r.numFailedTestSuites && !r.numFailedTests ? r.numFailedTestSuites : 0);
  skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
} else {
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(status !== 0 || failed > 0 ? 1 : 0);
