import { isVmcpError, type AuthType, type CallToolResult, type ConnectionTarget, type StaticAuth } from '@vmcp/contracts';
import { PETSTORE_OPENAPI, startFakePetstore, type FakePetstore } from '@vmcp/testing';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CredentialRequest, ResolvedCredential } from '../connector.js';
import { OpenApiConnector } from './openapi.connector.js';

const require = createRequire(import.meta.url);
const Ajv2020 = (require('ajv/dist/2020') as { default: typeof import('ajv/dist/2020.js').default }).default;
const addFormats = (require('ajv-formats') as { default: typeof import('ajv-formats').default }).default;
const ajv = addFormats(new Ajv2020({ strict: true, allErrors: true }));

const API_KEY = 'special-key-alice-7f3a';
const TOKEN = 'petstore_token_0001';
const REFRESHED = 'petstore_token_0002';
const PETSTORE = 'Swagger Petstore - OpenAPI 3.0';

let store: FakePetstore;

const petstore = () => structuredClone(PETSTORE_OPENAPI) as Record<string, unknown> & { paths: Record<string, Record<string, Record<string, unknown>>>; components: Record<string, Record<string, Record<string, unknown>>> };

interface Setup {
  readonly authType?: AuthType;
  /** settings.openapi; default: the document's URL on the fake. */
  readonly openapi?: Record<string, unknown>;
  readonly baseUrl?: string;
  readonly headerName?: string;
  readonly secrets?: StaticAuth[];
}

function setup(options: Setup = {}) {
  const authType = options.authType ?? 'api_key';
  const secrets = [...(options.secrets ?? [authType === 'api_key' ? { api_key: API_KEY } : { token: TOKEN }])];
  const resolveCredential = vi.fn(async (r: CredentialRequest): Promise<ResolvedCredential> => {
    // The vault hands out the next token when told which one was refused.
    if (r.rejectedToken && secrets.length > 1) secrets.shift();
    return { auth_type: authType, secret: secrets[0]! };
  });
  const onCredentialRefused = vi.fn();
  const connector = new OpenApiConnector({ resolveCredential, onCredentialRefused }, { retry: { baseDelayMs: 10, maxDelayMs: 20 }, maxResponseBytes: 64 * 1024 });
  const connection: ConnectionTarget = {
    id: 'conn_pets',
    name: 'petstore',
    connector: 'openapi',
    auth_type: authType,
    settings: {
      openapi: options.openapi ?? { url: store.documentUrl },
      ...(options.baseUrl ? { base_url: options.baseUrl } : {}),
      ...(options.headerName ? { header_name: options.headerName } : {}),
    },
  };
  const ctx = { tenantId: 'ten_1', connection, accountId: 'ca_alice', grant: 'grant.jwt' };
  const call = (name: string, args: Record<string, unknown>, timeoutMs = 5000) => connector.callTool(ctx, name, args, { timeoutMs });
  return { connector, resolveCredential, onCredentialRefused, call, ctx };
}

async function structured(connector: OpenApiConnector, ctx: Parameters<OpenApiConnector['listTools']>[0], name: string, result: CallToolResult) {
  expect(result.isError, JSON.stringify(result)).toBeUndefined();
  const tool = (await connector.listTools(ctx)).find((t) => t.name === name)!;
  const validate = ajv.compile(tool.outputSchema!);
  expect(validate(result.structuredContent), JSON.stringify(validate.errors)).toBe(true);
  expect(result.content).toEqual([{ type: 'text', text: JSON.stringify(result.structuredContent) }]);
  return result.structuredContent;
}

function errorText(result: CallToolResult): string {
  expect(result.isError, JSON.stringify(result)).toBe(true);
  return (result.content as unknown as Array<{ text: string }>)[0]!.text;
}

async function vmcpError(p: Promise<unknown>) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isVmcpError(err), String(err)).toBe(true);
  return err as { code: string; message: string };
}

const documentFetches = () => store.requests.filter((r) => r.path === '/api/v3/openapi.json').length;
const apiRequests = () => store.requests.filter((r) => r.path !== '/api/v3/openapi.json');

beforeAll(async () => {
  store = await startFakePetstore({ apiKeys: [API_KEY], tokens: [TOKEN, REFRESHED] });
});
afterAll(async () => {
  await store.close();
});
beforeEach(() => store.reset());

describe('openapi connector: tools of a served document', () => {
  it('fetches the document once, without any credential, and lists its operations', async () => {
    const { connector, ctx, resolveCredential } = setup();
    const tools = await connector.listTools(ctx);
    expect(tools).toHaveLength(19);
    expect(tools.find((t) => t.name === 'getPetById')).toMatchObject({ annotations: { readOnlyHint: true, idempotentHint: true }, outputSchema: { type: 'object' } });
    await connector.listTools(ctx);
    expect(documentFetches()).toBe(1);
    const [fetch] = store.requests;
    expect(fetch!.headers.api_key).toBeUndefined();
    expect(fetch!.headers.authorization).toBeUndefined();
    expect(resolveCredential).not.toHaveBeenCalled();

    // A changed connection is read again.
    connector.forget({ connectionId: 'conn_pets' });
    await connector.listTools(ctx);
    expect(documentFetches()).toBe(2);
    connector.forget({ accountId: 'ca_alice' });
    await connector.listTools(ctx);
    expect(documentFetches()).toBe(2);
  });

  it('reads a YAML document', async () => {
    const yaml = [
      'openapi: 3.1.0',
      'info: {title: Pets in YAML, version: "1"}',
      'paths:',
      '  /pet/{petId}:',
      '    get:',
      '      operationId: fetchPet',
      '      parameters:',
      '        - {name: petId, in: path, required: true, schema: {type: integer}}',
      '      security: [{key: []}]',
      'components:',
      '  securitySchemes:',
      '    key: {type: apiKey, in: header, name: api_key}',
    ].join('\n');
    store.override({ path: '/api/v3/openapi.yaml' }, { status: 200, headers: { 'content-type': 'application/yaml' }, body: yaml }, 10);
    const { connector, ctx, call } = setup({ openapi: { url: `${store.url}/openapi.yaml` } });
    expect((await connector.listTools(ctx)).map((t) => t.name)).toEqual(['fetchPet']);
    // No server in the document: the API is at the document's origin.
    expect(errorText(await call('fetchPet', { petId: 10 }))).toBe('Pets in YAML answered HTTP 404: Not Found');
    expect(apiRequests().at(-1)).toMatchObject({ method: 'GET', path: '/pet/10' });
    expect(apiRequests().at(-1)!.headers.api_key).toBe(API_KEY);
  });

  it('says when the document cannot be fetched or used', async () => {
    const missing = setup({ openapi: { url: `${store.url}/nope.json` } });
    expect(await vmcpError(missing.connector.listTools(missing.ctx))).toEqual(
      expect.objectContaining({ code: 'UNAVAILABLE', message: 'connection "petstore": its OpenAPI document (settings.openapi.url) could not be fetched: it answered HTTP 404' }),
    );
    const broken = setup({ openapi: { openapi: '3.0.3', paths: { '/x': { get: {} } } }, baseUrl: store.url });
    expect(await vmcpError(broken.call('x', {}))).toEqual(
      expect.objectContaining({ code: 'FAILED_PRECONDITION', message: 'connection "petstore": its OpenAPI document cannot be used: no operation has an operationId; each tool is named from one' }),
    );
    const { call } = setup();
    expect(await vmcpError(call('nope', {}))).toMatchObject({ code: 'TOOL_NOT_FOUND' });
  });
});

describe('openapi connector: requests and results', () => {
  it('getPetById: GET with the path parameter and the user\'s API key in the document\'s api_key header', async () => {
    const { connector, ctx, call } = setup();
    const result = await call('getPetById', { petId: 10 });
    expect(apiRequests()).toHaveLength(1);
    const [req] = apiRequests();
    expect(req).toMatchObject({ method: 'GET', path: '/api/v3/pet/10', query: {}, body: undefined });
    expect(req!.headers).toMatchObject({ api_key: API_KEY, accept: 'application/json', 'user-agent': 'vmcp' });
    expect(req!.headers.authorization).toBeUndefined();
    expect(await structured(connector, ctx, 'getPetById', result)).toEqual({
      id: 10,
      name: 'doggie',
      category: { id: 1, name: 'Dogs' },
      photoUrls: ['https://example.com/photos/doggie.jpg'],
      tags: [{ id: 1, name: 'friendly' }],
      status: 'available',
    });
  });

  it('findPetsByStatus and findPetsByTags: query parameters, an exploded array repeated; a JSON array comes back as text', async () => {
    const { call } = setup();
    const byStatus = await call('findPetsByStatus', { status: 'sold' });
    expect(byStatus).toEqual({ content: [{ type: 'text', text: JSON.stringify([store.pets.get(12)]) }] });
    const byTags = await call('findPetsByTags', { tags: ['calm', 'friendly'] });
    expect(JSON.parse((byTags.content as unknown as Array<{ text: string }>)[0]!.text).map((p: { id: number }) => p.id)).toEqual([10, 11, 12]);
    const [first, second] = apiRequests();
    expect(first).toMatchObject({ method: 'GET', path: '/api/v3/pet/findByStatus', query: { status: 'sold' } });
    expect(second).toMatchObject({ method: 'GET', path: '/api/v3/pet/findByTags', query: { tags: ['calm', 'friendly'] } });
    expect(second!.headers.api_key).toBe(API_KEY);
  });

  it('addPet: POST of the JSON body with an OAuth token (petstore_auth)', async () => {
    const { connector, ctx, call } = setup({ authType: 'oauth2' });
    const pet = { name: 'Rex', photoUrls: ['https://example.com/rex.png'], category: { id: 1, name: 'Dogs' }, tags: [], status: 'pending' };
    const result = await call('addPet', { body: pet });
    const [req] = apiRequests();
    expect(req).toMatchObject({ method: 'POST', path: '/api/v3/pet', body: pet });
    expect(req!.rawBody).toBe(JSON.stringify(pet));
    expect(req!.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', accept: 'application/json' });
    expect(req!.headers.api_key).toBeUndefined();
    expect(await structured(connector, ctx, 'addPet', result)).toEqual({ id: 1000, ...pet });
  });

  it('updatePetWithForm and deletePet: query parameters on a POST, a DELETE answered with text', async () => {
    const { call } = setup();
    const updated = await call('updatePetWithForm', { petId: 11, name: 'Tom', status: 'sold' });
    expect(updated.structuredContent).toMatchObject({ id: 11, name: 'Tom', status: 'sold' });
    const deleted = await call('deletePet', { petId: 11 });
    expect(deleted).toEqual({ content: [{ type: 'text', text: 'Pet deleted' }] });
    expect(apiRequests().map((r) => [r.method, r.path, r.query])).toEqual([
      ['POST', '/api/v3/pet/11', { name: 'Tom', status: 'sold' }],
      ['DELETE', '/api/v3/pet/11', {}],
    ]);
    expect(store.pets.has(11)).toBe(false);
  });

  it('loginUser: a text answer is passed on as text', async () => {
    const { call } = setup();
    expect(await call('loginUser', { username: 'theUser', password: '12345' })).toEqual({ content: [{ type: 'text', text: 'Logged in user session: 7264893412' }] });
    expect(apiRequests()[0]).toMatchObject({ path: '/api/v3/user/login', query: { username: 'theUser', password: '12345' } });
  });

  it('encodes a path parameter as one segment, and refuses one that would name another resource', async () => {
    const { call } = setup();
    expect(errorText(await call('getUserByName', { username: 'the user/../admin' }))).toBe(`${PETSTORE} answered HTTP 404: User not found`);
    expect(apiRequests()[0]!.path).toBe('/api/v3/user/the%20user%2F..%2Fadmin');
    store.reset();
    expect(errorText(await call('getUserByName', { username: '..' }))).toBe('Invalid argument: username must not be empty, "." or ".."');
    expect(apiRequests()).toHaveLength(0);
  });

  it('puts the API key in the query where the document\'s scheme says so, out of reach of a same-named argument', async () => {
    const document = petstore();
    document.components.securitySchemes!.api_key = { type: 'apiKey', name: 'api_key', in: 'query' };
    const { call } = setup({ openapi: document, baseUrl: store.url });
    const result = await call('getInventory', {});
    expect(result.structuredContent).toEqual({ available: 2, sold: 1 });
    const [req] = apiRequests();
    expect(req).toMatchObject({ method: 'GET', path: '/api/v3/store/inventory', query: { api_key: API_KEY } });
    expect(req!.headers.api_key).toBeUndefined();
  });

  it('settings.header_name overrides the document\'s header; an operation with `security: []` gets no credential', async () => {
    const document = petstore();
    document.paths['/user/{username}']!.get!.security = [];
    const { call, resolveCredential } = setup({ openapi: document, baseUrl: store.url, headerName: 'X-Api-Key' });
    // The fake Petstore wants its api_key header, so this key is refused.
    expect(await vmcpError(call('getInventory', {}))).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE' });
    expect(apiRequests()[0]!.headers).toMatchObject({ 'x-api-key': API_KEY });
    expect(apiRequests()[0]!.headers.api_key).toBeUndefined();
    expect(resolveCredential).toHaveBeenCalledTimes(1);

    store.reset();
    const user = await call('getUserByName', { username: 'theUser' });
    expect(user.structuredContent).toMatchObject({ username: 'theUser', email: 'john@email.com' });
    expect(apiRequests()[0]!.headers['x-api-key']).toBeUndefined();
    expect(resolveCredential).toHaveBeenCalledTimes(1);
  });

  it('calls settings.base_url with an inline document', async () => {
    const { call } = setup({ openapi: petstore(), baseUrl: store.url });
    const result = await call('getOrderById', { orderId: 5 });
    expect(result.structuredContent).toEqual({ id: 5, petId: 12, quantity: 1, shipDate: '2026-01-15T10:00:00.000Z', status: 'delivered', complete: true });
    expect(documentFetches()).toBe(0);
    expect(apiRequests()[0]).toMatchObject({ method: 'GET', path: '/api/v3/store/order/5' });
  });
});

describe('openapi connector: failures', () => {
  it('passes the API\'s error on as a tool error', async () => {
    const { call } = setup();
    expect(errorText(await call('getPetById', { petId: 4242 }))).toBe(`${PETSTORE} answered HTTP 404: Pet not found`);
    expect(errorText(await call('addPet', { body: { name: 'Rex' } }))).toBe(`${PETSTORE} answered HTTP 422: Validation exception`);
  });

  it('says so when a success answer does not fit the document\'s output schema', async () => {
    const { call } = setup();
    store.override({ method: 'GET', path: '/api/v3/pet/10' }, { status: 200, body: { id: 10 } });
    expect(errorText(await call('getPetById', { petId: 10 }))).toBe(
      `${PETSTORE} answered HTTP 200, but not with the JSON object its OpenAPI document describes ((root) must have required property 'name'); the answer: {"id":10}`,
    );
  });

  it('retries a GET answered 429 after its Retry-After, but not a POST', async () => {
    const { call } = setup();
    store.override({ method: 'GET', path: '/api/v3/pet/10' }, { status: 429, headers: { 'Retry-After': '1' }, body: 'Too Many Requests' });
    const started = Date.now();
    const result = await call('getPetById', { petId: 10 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(result.structuredContent).toMatchObject({ id: 10, name: 'doggie' });
    expect(apiRequests()).toHaveLength(2);

    store.reset();
    store.override({ method: 'POST', path: '/api/v3/pet' }, { status: 429, headers: { 'Retry-After': '1' }, body: 'Too Many Requests' });
    const refused = await call('addPet', { body: { name: 'Rex', photoUrls: [] } });
    expect(errorText(refused)).toBe(`${PETSTORE} answered HTTP 429: Too Many Requests (retry after 1 s)`);
    expect(apiRequests()).toHaveLength(1);
  });

  it('refreshes an OAuth token once on 401; a refused API key ends the call', async () => {
    store.tokens.delete(TOKEN);
    const oauth = setup({ authType: 'oauth2', secrets: [{ token: TOKEN }, { token: REFRESHED }] });
    const result = await oauth.call('getPetById', { petId: 10 });
    expect(result.structuredContent).toMatchObject({ id: 10 });
    expect(oauth.resolveCredential).toHaveBeenLastCalledWith({ tenantId: 'ten_1', accountId: 'ca_alice', grant: 'grant.jwt', rejectedToken: TOKEN });
    expect(apiRequests().map((r) => r.headers.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${REFRESHED}`]);
    expect(oauth.onCredentialRefused).not.toHaveBeenCalled();
    store.tokens.add(TOKEN);

    const key = setup({ secrets: [{ api_key: 'revoked-key' }] });
    expect(await vmcpError(key.call('getPetById', { petId: 10 }))).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE' });
    expect(key.onCredentialRefused).toHaveBeenCalledWith({ tenantId: 'ten_1', connectionId: 'conn_pets', accountId: 'ca_alice' });
  });

  it('does not blame the account for a 401 on an operation that sends no credential', async () => {
    const document = petstore();
    document.paths['/pet/{petId}']!.get!.security = [];
    const { call, resolveCredential, onCredentialRefused } = setup({ openapi: document, baseUrl: store.url });
    expect(errorText(await call('getPetById', { petId: 10 }))).toBe(`${PETSTORE} answered HTTP 401, though its OpenAPI document says getPetById takes no credential`);
    expect(resolveCredential).not.toHaveBeenCalled();
    expect(onCredentialRefused).not.toHaveBeenCalled();
  });

  it('maps a 5xx after the retries to UNAVAILABLE and the deadline to DEADLINE_EXCEEDED', async () => {
    const { call } = setup();
    await call('getPetById', { petId: 10 }); // the document is cached from here on
    store.override({ method: 'GET', path: '/api/v3/pet/10' }, { status: 503, body: 'down' }, 3);
    expect(await vmcpError(call('getPetById', { petId: 10 }))).toMatchObject({ code: 'UNAVAILABLE' });
    store.override({ method: 'GET', path: '/api/v3/pet/10' }, { status: 200, body: {}, delayMs: 2000 });
    expect(await vmcpError(call('getPetById', { petId: 10 }, 300))).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
  });
});
