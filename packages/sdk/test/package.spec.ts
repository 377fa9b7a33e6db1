import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

// What `npm publish` would ship must work on its own: packed, unpacked into a folder with
// no workspace around it, and imported by plain Node. A stray import of an internal lib,
// or a file missing from "files", fails here.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vmcp-sdk-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('the packed @vmcp/sdk imports and works outside the monorepo', () => {
  const pack = spawnSync('npm', ['pack', '--silent', '--pack-destination', dir, '-w', '@vmcp/sdk'], { cwd: ROOT, encoding: 'utf8' });
  expect(pack.status, pack.stderr).toBe(0);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  const target = join(dir, 'app', 'node_modules', '@vmcp', 'sdk');
  mkdirSync(target, { recursive: true });
  expect(spawnSync('tar', ['-xzf', join(dir, tarball), '-C', target, '--strip-components=1']).status).toBe(0);
  writeFileSync(
    join(dir, 'app', 'check.mjs'),
    `import { Vmcp, VmcpApiError, VmcpConnectionError, ROUTES } from '@vmcp/sdk';
const vmcp = new Vmcp({ baseUrl: 'http://127.0.0.1:9', apiKey: 'k', maxRetries: 0, timeoutMs: 2000 });
if (typeof vmcp.tools.execute !== 'function' || !ROUTES || typeof VmcpApiError !== 'function') throw new Error('surface missing');
try { await vmcp.configs.list(); throw new Error('no error'); } catch (err) { if (!(err instanceof VmcpConnectionError)) throw err; }
console.log('ok');
`,
  );
  const run = spawnSync(process.execPath, ['check.mjs'], { cwd: join(dir, 'app'), encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.stdout.trim()).toBe('ok');
}, 60_000);
