// Shared by `npm start` and `npm test` so each works on a fresh clone: installs the
// dependencies if they are missing, then re-runs the calling script on the pinned Node
// (a devDependency), whatever Node started it. Keep this file plain JavaScript that any
// Node >= 18 can run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PINNED_NODE = join(ROOT, 'node_modules', '.bin', 'node');
const PINNED_MAJOR = 'v24.';

export function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...options });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

/** Installs when node_modules or the pinned Node is missing; re-executes on the pinned Node. */
export function bootstrap(script) {
  if (!existsSync(PINNED_NODE) || !existsSync(join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release'))) {
    console.log('vmcp: installing dependencies (npm ci; the first time takes a few minutes)…');
    if (run('npm', ['ci', '--no-audit', '--no-fund']) !== 0) {
      console.error('vmcp: npm ci failed; see the output above');
      process.exit(1);
    }
  }
  if (!process.version.startsWith(PINNED_MAJOR)) {
    const r = spawnSync(PINNED_NODE, [script, ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
}

export function build() {
  if (run(PINNED_NODE, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'tsconfig.json']) !== 0) {
    console.error('vmcp: the build failed; see the output above');
    process.exit(1);
  }
}
