import { api, startNatsServer, startStack, type ApiClient, type NatsServerHandle, type Stack } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The management API against PostgreSQL: documented errors for bad input, tenant
// isolation, and no process falls over whatever it is sent.

describe('management API on PostgreSQL', () => {
  let nats: NatsServerHandle;
  let stack: Stack;
  let admin: ApiClient;
  let a: ApiClient;
  let b: ApiClient;
  let bTenantId: string;

  const raw = (path: string, init: RequestInit & { key?: string }) =>
    fetch(`${stack.baseUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${init.key}`, ...(init.headers as Record<string, string>) },
    });

  beforeAll(async () => {
    nats = await startNatsServer();
    stack = await startStack({ natsUrl: nats.url, database: 'postgres' });
    admin = api(stack.baseUrl, stack.adminKey);
    const ta = await admin.post('/api/v1/tenants', { name: 'acme' });
    a = api(stack.baseUrl, (ta.body as { api_key: string }).api_key);
    const tb = await admin.post('/api/v1/tenants', { name: 'globex' });
    b = api(stack.baseUrl, (tb.body as { api_key: string }).api_key);
    bTenantId = (tb.body as { tenant: { id: string } }).tenant.id;
    await b.post('/api/v1/connections', { name: 'secret-conn', connector: 'mcp', auth_type: 'none', settings: { url: 'http://127.0.0.1:9/mcp' } });
  });

  afterAll(async () => {
    await stack?.close();
    await nats?.stop();
  });

  it('creates and reads the resources of API.md', async () => {
    const conn = await a.post('/api/v1/connections', {
      name: 'crm',
      connector: 'mcp',
      auth_type: 'api_key',
      settings: { url: 'http://127.0.0.1:9/mcp', header_name: 'X-Api-Token' },
    });
    expect(conn.status).toBe(201);
    expect(conn.body).toMatchObject({ connection: { id: expect.stringMatching(/^conn_/), name: 'crm', auth_type: 'api_key' } });
    expect((await a.get('/api/v1/connections/crm')).status).toBe(200);
    expect((await a.patch('/api/v1/connections/crm', { settings: { url: 'http://127.0.0.1:10/mcp' } })).status).toBe(200);

    const acct = await a.post('/api/v1/connected_accounts', {
      connection_name: 'crm',
      identifier: 'user@example.com',
      authorization_details: { static_auth: { api_key: 'k-123456' } },
    });
    expect(acct.status).toBe(201);
    expect(JSON.stringify(acct.body)).not.toContain('k-123456');
    const again = await a.post('/api/v1/connected_accounts', {
      connection_name: 'crm',
      identifier: 'user@example.com',
      authorization_details: { static_auth: { api_key: 'k-654321' } },
    });
    expect(again.status).toBe(200);
    const list = await a.get('/api/v1/connected_accounts?identifier=user%40example.com');
    expect((list.body as { connected_accounts: unknown[] }).connected_accounts).toHaveLength(1);

    const cfg = await a.post('/api/v1/mcp/configs', {
      name: 'sales',
      description: 'Sales agent',
      connection_tool_mappings: [{ connection_name: 'crm', tools: ['lookup'] }],
    });
    expect(cfg.status).toBe(201);
    const config = (cfg.body as { config: { id: string; mcp_server_url: string } }).config;
    expect(config.mcp_server_url).toBe(`${stack.publicUrl}/mcp/${config.id}`);
    const tok = await a.post(`/api/v1/mcp/configs/${config.id}/tokens`, { identifier: 'user@example.com', expiry_seconds: 600 });
    expect(tok.status).toBe(201);
    expect(tok.body).toMatchObject({ token: expect.any(String), token_id: expect.stringMatching(/^tok_/), mcp_server_url: config.mcp_server_url });
    const states = await a.post(`/api/v1/mcp/configs/${config.id}/connected_accounts`, { identifier: 'user@example.com' });
    expect(states.body).toMatchObject({ connected_accounts: [{ connection_name: 'crm', connected_account_status: 'ACTIVE' }] });
    expect((await a.get('/api/v1/connectors')).body).toMatchObject({ connectors: expect.arrayContaining([expect.objectContaining({ id: 'mcp', dynamic_tools: true })]) });
  });

  it("keeps a config's client requests: allowed unless turned off, and a PUT that does not name them leaves them as they are", async () => {
    const mappings = [{ connection_name: 'crm', tools: ['lookup'] }];
    const features = async (id: string) => ((await a.get(`/api/v1/mcp/configs/${id}`)).body as { config: { client_requests: unknown } }).config.client_requests;
    const created = await a.post<{ config: { id: string; client_requests: unknown } }>('/api/v1/mcp/configs', { name: 'requests', connection_tool_mappings: mappings });
    expect(created.status).toBe(201);
    expect(created.body.config.client_requests).toEqual({ sampling: true, elicitation: true });
    const id = created.body.config.id;
    const put = (body: Record<string, unknown>) => a.put(`/api/v1/mcp/configs/${id}`, { name: 'requests', connection_tool_mappings: mappings, ...body });
    expect((await put({ client_requests: { sampling: false } })).status).toBe(200);
    expect(await features(id)).toEqual({ sampling: false, elicitation: true });
    // A client that predates the option never widens it by leaving it out.
    expect((await put({})).status).toBe(200);
    expect(await features(id)).toEqual({ sampling: false, elicitation: true });
    expect((await put({ client_requests: {} })).status).toBe(200);
    expect(await features(id)).toEqual({ sampling: false, elicitation: true });
    expect((await put({ client_requests: { sampling: true, elicitation: false } })).status).toBe(200);
    expect(await features(id)).toEqual({ sampling: true, elicitation: false });
    for (const bad of [null, true, [], { sampling: 'no' }, { roots: false }]) {
      const res = await put({ client_requests: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    }
    expect(await features(id)).toEqual({ sampling: true, elicitation: false });
    expect((await a.delete(`/api/v1/mcp/configs/${id}`)).status).toBe(200);
  });

  it('serves an OpenAPI document that covers every route', async () => {
    const res = await fetch(`${stack.baseUrl}/openapi.json`);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of ['/api/v1/tenants', '/api/v1/connections/{name}', '/api/v1/mcp/configs/{config_id}/tokens', '/api/v1/tool_call_logs']) {
      expect(doc.paths[path]).toBeDefined();
    }
  });

  it.each([
    ['no key', () => raw('/api/v1/connections', { method: 'GET', key: '' }), 401, 'UNAUTHENTICATED'],
    ['an unknown key', () => raw('/api/v1/connections', { method: 'GET', key: 'vmcp_sk_nope' }), 401, 'UNAUTHENTICATED'],
    ['a tenant key on admin routes', () => a.get('/api/v1/tenants'), 403, 'FORBIDDEN'],
    ['the admin key on tenant routes', () => admin.get('/api/v1/connections'), 403, 'FORBIDDEN'],
    ['malformed JSON', () => raw('/api/v1/connections', { method: 'POST', key: stack.adminKey, body: '{"name":', headers: { 'content-type': 'application/json' } }), 400, 'INVALID_ARGUMENT'],
    ['a non-JSON body', () => a.postRaw('/api/v1/connections', 'name=x', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['wrong types', () => a.post('/api/v1/connections', { name: 42, connector: 'mcp', auth_type: 'none' }), 400, 'INVALID_ARGUMENT'],
    ['a name out of pattern', () => a.post('/api/v1/connections', { name: 'Bad Name!', connector: 'mcp', auth_type: 'none', settings: { url: 'http://x/mcp' } }), 400, 'INVALID_ARGUMENT'],
    ['unknown fields', () => a.post('/api/v1/connections', { name: 'x', connector: 'mcp', auth_type: 'none', settings: { url: 'http://x/mcp' }, tenant_id: bTenantId }), 400, 'INVALID_ARGUMENT'],
    ['an unknown connector', () => a.post('/api/v1/connections', { name: 'x', connector: 'nope', auth_type: 'none' }), 400, 'INVALID_ARGUMENT'],
    ['an oversized body', () => a.post('/api/v1/connections', { name: 'x', pad: 'x'.repeat(2 * 1024 * 1024) }), 413, 'PAYLOAD_TOO_LARGE'],
    ['too deep JSON', () => a.post('/api/v1/connections', JSON.parse('['.repeat(100) + ']'.repeat(100)) as unknown), 400, 'INVALID_ARGUMENT'],
    ['empty tools', () => a.post('/api/v1/mcp/configs', { name: 'c', connection_tool_mappings: [{ connection_name: 'crm', tools: [] }] }), 400, 'INVALID_ARGUMENT'],
    ['client requests that are not booleans', () => a.post('/api/v1/mcp/configs', { name: 'c', connection_tool_mappings: [{ connection_name: 'crm', tools: ['lookup'] }], client_requests: { sampling: 'no' } }), 400, 'INVALID_ARGUMENT'],
    ['a client request vmcp does not relay', () => a.post('/api/v1/mcp/configs', { name: 'c', connection_tool_mappings: [{ connection_name: 'crm', tools: ['lookup'] }], client_requests: { roots: false } }), 400, 'INVALID_ARGUMENT'],
    ['a malformed id', () => a.get('/api/v1/connected_accounts/not-an-id'), 400, 'INVALID_ARGUMENT'],
    ['an unknown id', () => a.get('/api/v1/connected_accounts/ca_0000000000000000000000'), 404, 'NOT_FOUND'],
    ['an unknown route', () => a.get('/api/v1/nothing-here'), 404, 'NOT_FOUND'],
    ['an unknown connector in the tool catalog', () => a.get('/api/v1/tools?connector=nope'), 404, 'NOT_FOUND'],
    ['a duplicate name', () => a.post('/api/v1/connections', { name: 'crm', connector: 'mcp', auth_type: 'none', settings: { url: 'http://x/mcp' } }), 409, 'ALREADY_EXISTS'],
    ['a page size over 200', () => a.get('/api/v1/connections?page_size=500'), 400, 'INVALID_ARGUMENT'],
    ['a credential of the wrong shape', () => a.post('/api/v1/connected_accounts', { connection_name: 'crm', identifier: 'u', authorization_details: { static_auth: { token: 't' } } }), 400, 'INVALID_ARGUMENT'],
    ['an expiry out of range', () => a.post('/api/v1/mcp/configs/cfg_0000000000000000000000/tokens', { identifier: 'u', expiry_seconds: 5 }), 400, 'INVALID_ARGUMENT'],
  ])('answers %s with the documented error', async (_name, call, status, code) => {
    const res = await call();
    const body = res instanceof Response ? await res.json() : res.body;
    expect(res.status).toBe(status);
    expect(body).toMatchObject({ error: { code, message: expect.any(String) } });
  });

  it("treats another tenant's resources as non-existent", async () => {
    expect((await a.get('/api/v1/connections/secret-conn')).status).toBe(404);
    expect((await a.delete('/api/v1/connections/secret-conn')).status).toBe(404);
    const bConfig = await b.post('/api/v1/mcp/configs', {
      name: 'bcfg',
      connection_tool_mappings: [{ connection_name: 'secret-conn', tools: ['*'] }],
    });
    const id = (bConfig.body as { config: { id: string } }).config.id;
    expect((await a.get(`/api/v1/mcp/configs/${id}`)).status).toBe(404);
    expect((await a.post(`/api/v1/mcp/configs/${id}/tokens`, { identifier: 'x' })).status).toBe(404);
    expect((await a.delete(`/api/v1/mcp/configs/${id}`)).status).toBe(404);
    expect((await b.get(`/api/v1/mcp/configs/${id}`)).status).toBe(200);
    const bList = await a.get('/api/v1/connections');
    expect(JSON.stringify(bList.body)).not.toContain('secret-conn');
  });

  it('revokes an API key at once', async () => {
    const created = await admin.post(`/api/v1/tenants/${bTenantId}/api_keys`, {});
    expect(created.status).toBe(201);
    const { key_id, api_key } = created.body as { key_id: string; api_key: string };
    const extra = api(stack.baseUrl, api_key);
    expect((await extra.get('/api/v1/connections')).status).toBe(200);
    expect((await admin.delete(`/api/v1/tenants/${bTenantId}/api_keys/${key_id}`)).status).toBe(200);
    expect((await extra.get('/api/v1/connections')).status).toBe(401);
  });

  it('is still healthy after all of that', async () => {
    const ready = await fetch(`${stack.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(stack.exited()).toEqual([]);
  });
});

describe('MCP endpoint input limits', () => {
  let nats: NatsServerHandle;
  let stack: Stack;

  beforeAll(async () => {
    nats = await startNatsServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
  });

  afterAll(async () => {
    await stack?.close();
    await nats?.stop();
  });

  it.each([
    ['malformed JSON', '{"jsonrpc":', 400, -32700],
    ['too deep JSON', `{"jsonrpc":"2.0","id":1,"method":"ping","params":${'['.repeat(60)}${']'.repeat(60)}}`, 400, -32600],
    ['an oversized body', `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"${'x'.repeat(2 * 1024 * 1024)}"}}`, 413, -32600],
  ])('answers %s with a JSON-RPC error before any work', async (_name, body, status, rpcCode) => {
    const res = await fetch(`${stack.baseUrl}/mcp/cfg_0000000000000000000000`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: 'Bearer x.y.z' },
      body,
    });
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { code: rpcCode }, id: null });
  });
});
