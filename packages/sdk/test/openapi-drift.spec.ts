import { readFileSync } from 'node:fs';
// The SDK is published alone and depends on no internal lib; its tests still start the real stack.
import { startNatsServer, startStack, type NatsServerHandle, type Stack } from '@vmcp/testing';
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../src/index.js';

// The SDK is generated from docs/openapi.json and hand-written against it; these checks fail
// when the API the edge serves moves away from either. The fix is `npm run openapi`, then
// an SDK method for each new operation (src/routes.ts and a resource).

const ROOT = new URL('../../../', import.meta.url);
const COMMITTED_DOCUMENT = new URL('docs/openapi.json', ROOT);
const COMMITTED_TYPES = new URL('packages/sdk/src/generated/openapi.ts', ROOT);
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

describe('the SDK and the OpenAPI document the edge serves', () => {
  let nats: NatsServerHandle;
  let stack: Stack;
  let served: OpenAPI3;

  beforeAll(async () => {
    nats = await startNatsServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
    const res = await fetch(`${stack.baseUrl}/openapi.json`);
    expect(res.status).toBe(200);
    // The edge names its own URL; the committed document names the placeholder one.
    const committed = JSON.parse(readFileSync(COMMITTED_DOCUMENT, 'utf8')) as OpenAPI3;
    served = { ...((await res.json()) as OpenAPI3), servers: committed.servers };
  });

  afterAll(async () => {
    await stack?.close();
    await nats?.stop();
  });

  it('is the committed docs/openapi.json', () => {
    expect(served).toEqual(JSON.parse(readFileSync(COMMITTED_DOCUMENT, 'utf8')));
  });

  it('generates exactly the committed types', async () => {
    // What `npm run openapi` writes: the CLI's header, then the generated source.
    const generated = COMMENT_HEADER + astToString(await openapiTS(structuredClone(served), { silent: true }));
    expect(generated).toBe(readFileSync(COMMITTED_TYPES, 'utf8'));
  });

  it('has an SDK method for every operation, and no method for an operation it lacks', () => {
    const operations = Object.entries(served.paths ?? {}).flatMap(([path, item]) =>
      METHODS.filter((m) => m in (item as object)).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const sdk = Object.values(ROUTES).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(operations.filter((op) => !sdk.includes(op)), 'operations without an SDK method').toEqual([]);
    expect(sdk.filter((op) => !operations.includes(op)), 'SDK methods without an operation').toEqual([]);
    expect(new Set(sdk).size, 'operations reached by two SDK methods').toBe(sdk.length);
  });
});
