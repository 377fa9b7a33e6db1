import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

// Node runs the examples by stripping their types, so nothing checks them on the way:
// a framework upgrade that changes a type we rely on must fail here, with tsc's words.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

it('the examples type-check against the installed frameworks and the built SDK', () => {
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'examples')], { encoding: 'utf8' });
  expect(tsc.stdout + tsc.stderr).toBe('');
  expect(tsc.status).toBe(0);
}, 120_000);
