import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// The embedded database (VMCP_DATABASE=sqlite, what `npm start` runs) is better-sqlite3. Up
// to 12.x its statements are raw node::ObjectWrap objects, whose destructor on Node ≥ 24.19
// asserts that a JavaScript context is entered: a garbage collection that finalizes dropped
// statements outside one aborted the process (SIGABRT, `Assertion failed: (env) != nullptr`
// in RemoveEnvironmentCleanupHook). The audit service, which prepares statements for every
// batch, died so under load. 13.x is built on Node-API and is not affected.

const SCRIPT = `
const Database = require(process.argv[1]);
const db = new Database(':memory:');
db.exec('create table t (a integer)');
let garbage = [];
for (let i = 0; i < 20000; i++) {
  db.prepare('insert into t (a) values (?)').run(i);
  garbage.push({ i, text: 'x'.repeat(50) });
}
garbage = [];
setTimeout(() => console.log('survived', db.prepare('select count(*) as n from t').get().n), 100);
`;

describe('better-sqlite3 on this Node', () => {
  it('survives the collection of thousands of dropped statements (12.x aborted the process here)', () => {
    const path = createRequire(import.meta.url).resolve('better-sqlite3');
    const child = spawnSync(process.execPath, ['-e', SCRIPT, path], { encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).not.toMatch(/Assertion failed/);
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
    expect(child.stdout.trim()).toBe('survived 20000');
  });
});
