import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { api, PETSTORE_OPENAPI, startFakePetstore, startNatsServer, startStack, type ApiClient, type FakePetstore, type NatsServerHandle, type Stack } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError, connectAgent } from './mcp-client.js';

// The openapi connector through the whole gateway: five processes, the SDK client as the
// agent, and a local Swagger Petstore that serves the real Petstore 3 document and answers
// its operations, recording every request.

const ALICE_KEY = 'petstore_alice_e2e_key_91c2';

describe('openapi connector end to end', () => {
  let nats: NatsServerHandle;
  let store: FakePetstore;
  let stack: Stack;
  let tenant: ApiClient;
  let agent: Client;
  let sessionToken: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    store = await startFakePetstore({ apiKeys: [ALICE_KEY] });
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
    const admin = api(stack.baseUrl, stack.adminKey);
    const t = await admin.post('/api/v1/tenants', { name: 'acme' });
    expect(t.status).toBe(201);
    tenant = api(stack.baseUrl, (t.body as { api_key: string }).api_key);

    const conn = await tenant.post('/api/v1/connections', { name: 'petstore', connector: 'openapi', auth_type: 'api_key', settings: { openapi: { url: store.documentUrl } } });
    expect(conn.status, JSON.stringify(conn.body)).toBe(201);
    const account = await tenant.post('/api/v1/connected_accounts', { connection_name: 'petstore', identifier: 'alice', authorization_details: { static_auth: { api_key: ALICE_KEY } } });
    expect(account.status, JSON.stringify(account.body)).toBe(201);
    const config = await tenant.post('/api/v1/mcp/configs', {
      name: 'pets',
      connection_tool_mappings: [{ connection_name: 'petstore', tools: ['getPetById', 'findPetsByStatus'], prefix: 'pets_' }],
    });
    expect(config.status, JSON.stringify(config.body)).toBe(201);
    const { id } = (config.body as { config: { id: string } }).config;
    const minted = await tenant.post(`/api/v1/mcp/configs/${id}/tokens`, { identifier: 'alice' });
    expect(minted.status).toBe(201);
    const { token, mcp_server_url } = minted.body as { token: string; mcp_server_url: string };
    sessionToken = token;
    agent = await connectAgent(mcp_server_url, token);
  });

  afterAll(async () => {
    await agent?.close();
    await stack?.close();
    await store?.close();
    await nats?.stop();
  });

  it('is in the catalog as a connector whose tools come from each connection\'s document', async () => {
    const connectors = await tenant.get('/api/v1/connectors');
    const entry = (connectors.body as { connectors: Array<Record<string, unknown>> }).connectors.find((c) => c.id === 'openapi');
    expect(entry).toMatchObject({ name: 'OpenAPI service', dynamic_tools: true, auth_types: expect.arrayContaining(['api_key', 'bearer_token', 'oauth2']) });
    expect((await tenant.get('/api/v1/tools?connector=openapi')).body).toEqual({ tools: [] });
  });

  it('stores an inline document, and refuses one that is not OpenAPI 3 with a clear INVALID_ARGUMENT', async () => {
    const inline = await tenant.post('/api/v1/connections', {
      name: 'petstore-inline',
      connector: 'openapi',
      auth_type: 'api_key',
      settings: { openapi: PETSTORE_OPENAPI, base_url: store.url },
    });
    expect(inline.status, JSON.stringify(inline.body)).toBe(201);
    const read = await tenant.get('/api/v1/connections/petstore-inline');
    expect((read.body as { connection: { settings: Record<string, unknown> } }).connection.settings).toEqual({ openapi: PETSTORE_OPENAPI, base_url: store.url });

    const swagger = await tenant.post('/api/v1/connections', { name: 'old', connector: 'openapi', auth_type: 'none', settings: { openapi: { swagger: '2.0', info: {}, paths: {} } } });
    expect(swagger.status).toBe(400);
    expect((swagger.body as { error: unknown }).error).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'settings.openapi: not an OpenAPI 3 document: the "openapi" version field is missing (this is a Swagger 2.0 document; convert it to OpenAPI 3)',
    });
    const relative = await tenant.post('/api/v1/connections', { name: 'nobase', connector: 'openapi', auth_type: 'none', settings: { openapi: PETSTORE_OPENAPI } });
    expect(relative.status).toBe(400);
    expect((relative.body as { error: { message: string } }).error.message).toBe('settings.base_url is required: the document names only the relative server URL "/api/v3"');
  });

  it('shows the agent exactly the two mapped operations, with schemas and annotations from the document', async () => {
    const { tools } = await agent.listTools();
    expect(tools.map((t) => t.name)).toEqual(['pets_findPetsByStatus', 'pets_getPetById']);
    const get = tools.find((t) => t.name === 'pets_getPetById')!;
    expect(get.description).toBe('Find pet by ID.\n\nReturns a single pet.');
    expect(get.inputSchema).toEqual({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { petId: { type: 'integer', format: 'int64', description: 'ID of pet to return' } },
      required: ['petId'],
      additionalProperties: false,
    });
    expect(get.outputSchema).toMatchObject({ type: 'object', required: ['name', 'photoUrls'] });
    expect(get.annotations).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
  });

  it('calls the API with the user\'s own API key, never the session token', async () => {
    store.reset();
    const result = await agent.callTool({ name: 'pets_getPetById', arguments: { petId: 10 } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ id: 10, name: 'doggie', status: 'available' });

    const calls = store.requests.filter((r) => r.path !== '/api/v3/openapi.json');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: 'GET', path: '/api/v3/pet/10', query: {} });
    expect(calls[0]!.headers).toMatchObject({ api_key: ALICE_KEY, accept: 'application/json' });
    expect(JSON.stringify(store.requests.map((r) => r.headers))).not.toContain(sessionToken);

    const sold = await agent.callTool({ name: 'pets_findPetsByStatus', arguments: { status: 'sold' } });
    expect(JSON.parse((sold.content as Array<{ text: string }>)[0]!.text)).toMatchObject([{ id: 12, name: 'Nemo' }]);
  });

  it('passes the API\'s 404 on as a tool error, and refuses bad arguments and unmapped operations before the API sees them', async () => {
    const missing = await agent.callTool({ name: 'pets_getPetById', arguments: { petId: 4242 } });
    expect(missing).toMatchObject({ isError: true, content: [{ type: 'text', text: 'Swagger Petstore - OpenAPI 3.0 answered HTTP 404: Pet not found' }] });
    store.reset();
    expect(await callError(agent, 'pets_getPetById', { petId: 'ten' })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await callError(agent, 'pets_findPetsByStatus', { status: 'lost' })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await callError(agent, 'pets_deletePet', { petId: 10 })).toMatchObject({ code: 'TOOL_NOT_FOUND' });
    expect(store.requests.filter((r) => r.path !== '/api/v3/openapi.json')).toHaveLength(0);
  });
});
