import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { statusOfCode } from '../src/errors.js';
import { API_KEY_HEADER, BUS_SUBJECTS, EVENT_TYPES, ROUTES, type ErrorCode } from '../src/index.js';

// The SDK keeps its own copy of the bus API's subject table, key header, event types and
// code-to-status map, as it depends on no internal lib; these checks fail when the gateway's
// contract (libs/contracts) moves away from it. The SDK's tests may not import the contracts
// either (lint: a type:sdk project uses type:testing only), so, as the OpenAPI drift test
// reads the document the edge serves, this one reads the contract's values in a separate
// Node process, from its TypeScript source (never a stale build).

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Lets Node load the contracts' sources: their `./x.js` imports name `./x.ts` files. */
const TS_IMPORTS = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) {
    try { return next(specifier, context); } catch (err) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) return next(specifier.slice(0, -3) + '.ts', context);
      throw err;
    }
  },
});`)}`;

const READ_CONTRACT = `
const c = await import('@vmcp/contracts');
console.log(JSON.stringify({
  prefix: c.busApi.BUS_API_SUBJECT_PREFIX,
  header: c.busApi.API_KEY_HEADER,
  operations: c.busApi.BUS_API_OPERATIONS.map((op) => ({ subject: op.subject, fields: Object.keys(op.request.shape ?? {}) })),
  statuses: Object.fromEntries(c.ErrorCode.options.map((code) => [code, c.httpStatusOf(code)])),
  eventTypes: c.events.EventType.options,
}));`;

interface Contract {
  readonly prefix: string;
  readonly header: string;
  readonly operations: { subject: string; fields: string[] }[];
  readonly statuses: Record<string, number>;
  readonly eventTypes: string[];
}

describe("the SDK's bus API table and the gateway's contract", () => {
  let contract: Contract;

  beforeAll(() => {
    const run = spawnSync(
      process.execPath,
      ['--experimental-transform-types', '--no-warnings', '--conditions=@vmcp/source', '--import', TS_IMPORTS, '--input-type=module', '-e', READ_CONTRACT],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    contract = JSON.parse(run.stdout) as Contract;
  });

  it('has the same subjects, both ways', () => {
    const sdk = Object.values(BUS_SUBJECTS) as string[];
    const gateway = contract.operations.map((op) => op.subject);
    expect(gateway.filter((s) => !sdk.includes(s)), 'operations of the contract without an SDK method').toEqual([]);
    expect(sdk.filter((s) => !gateway.includes(s)), 'SDK methods without an operation in the contract').toEqual([]);
    expect(new Set(sdk).size, 'operations reached by two SDK methods').toBe(sdk.length);
    expect(sdk.every((s) => s.startsWith(`${contract.prefix}.`))).toBe(true);
  });

  it('sends the path parameters of each REST twin under the names the bus API reads', () => {
    for (const [name, subject] of Object.entries(BUS_SUBJECTS)) {
      if (!(name in ROUTES)) continue;
      const pathParams = [...ROUTES[name as keyof typeof ROUTES].path.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]);
      const fields = contract.operations.find((op) => op.subject === subject)?.fields ?? [];
      expect(pathParams.filter((p) => !fields.includes(p!)), `${name} (${subject})`).toEqual([]);
    }
  });

  it('uses the same key header, event types and code statuses', () => {
    expect(API_KEY_HEADER).toBe(contract.header);
    expect([...EVENT_TYPES].sort()).toEqual([...contract.eventTypes].sort());
    const sdk = Object.fromEntries(Object.keys(contract.statuses).map((code) => [code, statusOfCode(code as ErrorCode)]));
    expect(sdk).toEqual(contract.statuses);
  });
});
