import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The SDK is published alone and depends on no internal lib; its tests may start a real nats-server.
import { startNatsServer, type NatsServerHandle } from '@vmcp/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';

// What `npm publish` would ship must work on its own: packed, unpacked into a folder with
// no workspace around it, and imported by plain Node. A stray import of an internal lib,
// or a file missing from "files", fails here. NATS is an optional peer: an app without it
// uses HTTP, an app with it (here: the workspace's @nats-io packages) also NATS.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vmcp-sdk-pack-'));
let unpacked: string;
let nats: NatsServerHandle | undefined;

beforeAll(() => {
  const pack = spawnSync('npm', ['pack', '--silent', '--pack-destination', dir, '-w', '@vmcp/sdk'], { cwd: ROOT, encoding: 'utf8' });
  expect(pack.status, pack.stderr).toBe(0);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  unpacked = join(dir, 'unpacked');
  mkdirSync(unpacked);
  expect(spawnSync('tar', ['-xzf', join(dir, tarball), '-C', unpacked, '--strip-components=1']).status).toBe(0);
}, 60_000);
afterAll(async () => {
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** An app folder with the unpacked SDK installed, and `check.mjs` run in it by plain Node. */
function runApp(name: string, script: string, withNats: boolean): { stdout: string; stderr: string } {
  const app = join(dir, name);
  mkdirSync(join(app, 'node_modules', '@vmcp'), { recursive: true });
  cpSync(unpacked, join(app, 'node_modules', '@vmcp', 'sdk'), { recursive: true });
  if (withNats) symlinkSync(join(ROOT, 'node_modules', '@nats-io'), join(app, 'node_modules', '@nats-io'));
  writeFileSync(join(app, 'check.mjs'), script);
  const run = spawnSync(process.execPath, ['check.mjs'], { cwd: app, encoding: 'utf8' });
  return { stdout: run.stdout.trim(), stderr: run.stderr };
}

it('declares NATS as an optional peer dependency only', () => {
  const pkg = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as Record<string, Record<string, unknown> | undefined>;
  expect(pkg.dependencies ?? {}).toEqual({});
  expect(pkg.peerDependencies).toEqual({ '@nats-io/nats-core': expect.stringMatching(/^\^3\./) });
  expect(pkg.peerDependenciesMeta).toEqual({ '@nats-io/nats-core': { optional: true } });
});

it('the packed @vmcp/sdk imports and works outside the monorepo, without any NATS package', () => {
  const run = runApp(
    'app',
    `import { Vmcp, VmcpNats, VmcpApiError, VmcpConnectionError, VmcpError, ROUTES, BUS_SUBJECTS, EVENT_TYPES } from '@vmcp/sdk';
const vmcp = new Vmcp({ baseUrl: 'http://127.0.0.1:9', apiKey: 'k', maxRetries: 0, timeoutMs: 2000 });
if (typeof vmcp.tools.execute !== 'function' || !ROUTES || !BUS_SUBJECTS || !EVENT_TYPES || typeof VmcpApiError !== 'function') throw new Error('surface missing');
try { await vmcp.configs.list(); throw new Error('no error'); } catch (err) { if (!(err instanceof VmcpConnectionError)) throw err; }
// Using NATS without its package says what to install, and sends nothing.
const bus = new VmcpNats({ nats: { request() { throw new Error('sent'); } }, apiKey: 'k' });
try { await bus.tools.scoped({ config_id: 'cfg_1', identifier: 'a' }); throw new Error('no error'); } catch (err) {
  if (!(err instanceof VmcpError) || !err.message.includes('npm install @nats-io/nats-core')) throw err;
}
console.log('ok');
`,
    false,
  );
  expect(run.stderr).toBe('');
  expect(run.stdout).toBe('ok');
}, 60_000);

it('the packed @vmcp/sdk talks NATS when the app has @nats-io installed', async () => {
  nats = await startNatsServer({ jetstream: false });
  const run = runApp(
    'app-nats',
    `import { connect } from '@nats-io/transport-node';
import { VmcpNats } from '@vmcp/sdk';
const nc = await connect({ servers: ${JSON.stringify(nats.url)} });
nc.subscribe('vmcp.api.v1.tools.scoped', { callback: (_err, msg) => msg.respond(JSON.stringify({ tools: [], key: msg.headers?.get('Vmcp-Api-Key') })) });
const reply = await new VmcpNats({ nats: nc, apiKey: 'k1' }).tools.scoped({ config_id: 'cfg_1', identifier: 'a' });
await nc.close();
console.log(JSON.stringify(reply));
`,
    true,
  );
  expect(run.stderr).toBe('');
  expect(JSON.parse(run.stdout)).toEqual({ tools: [], key: 'k1' });
}, 60_000);
