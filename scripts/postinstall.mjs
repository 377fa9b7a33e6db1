// better-sqlite3 13 ships Node-API prebuilds (linux, macOS and Windows on x64 and arm64): they
// load on any Node. Where none fits, it is built against the pinned Node's headers once the
// `node` package is in place. Its own install script is disabled in allowScripts because npm
// runs it in parallel with the `node` package's preinstall, before those headers exist.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);
const pkgDir = dirname(require.resolve('better-sqlite3/package.json'));

function loads() {
  try {
    const Database = require('better-sqlite3');
    new Database(':memory:').close();
    return true;
  } catch {
    return false;
  }
}

if (loads()) process.exit(0);
console.log(`building better-sqlite3 for node ${process.version} (about a minute)`);
execFileSync('node-gyp', ['rebuild', '--release'], { cwd: pkgDir, stdio: 'inherit' });
if (!loads()) {
  console.error('better-sqlite3 built but does not load; see the output above');
  process.exit(1);
}
