import { createHash } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { canonicalJson } from '@vmcp/contracts';
import {
  api,
  DATABASE_KINDS,
  startNatsServer,
  startStack,
  startUpstreamMcpServer,
  waitFor,
  type ApiClient,
  type NatsServerHandle,
  type Stack,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError, connectAgent } from './mcp-client.js';

// The audit trail as a tenant's security reviewer uses it, through the whole gateway on
// both databases: digests by default, captured and redacted payloads on opt-in, denials
// by reason, the NDJSON export, chain verification and retention settings.

type Entry = Record<string, unknown> & { execution_id: string; tool_name: string; status: string };

const SECRETS = ['pw-secret-51ac', 'key-secret-93bd', 'tok-secret-77e0'];

describe.each(DATABASE_KINDS)('audit trail end to end on %s', (kind) => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let tenant: ApiClient;
  let other: ApiClient;
  let tenantKey: string;
  const clients: Client[] = [];
  let plainId: string;
  let capturedId: string;

  const agent = async (configId: string) => {
    const t = (await tenant.post(`/api/v1/mcp/configs/${configId}/tokens`, { identifier: 'alice' })).body as { token: string; mcp_server_url: string };
    const c = await connectAgent(t.mcp_server_url, t.token);
    clients.push(c);
    return c;
  };
  const entries = async (query = '') => ((await tenant.get(`/api/v1/tool_call_logs?page_size=200${query}`)).body as { tool_call_logs: Entry[] }).tool_call_logs;
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: kind });
    const admin = api(stack.baseUrl, stack.adminKey);
    tenantKey = ((await admin.post('/api/v1/tenants', { name: 'acme' })).body as { api_key: string }).api_key;
    tenant = api(stack.baseUrl, tenantKey);
    other = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name: 'globex' })).body as { api_key: string }).api_key);
    expect((await tenant.post('/api/v1/connections', { name: 'upstream', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } })).status).toBe(201);
    await tenant.post('/api/v1/connected_accounts', { connection_name: 'upstream', identifier: 'alice', authorization_details: { static_auth: { token: 'alice-upstream-token-1' } } });
    const plain = await tenant.post('/api/v1/mcp/configs', { name: 'plain', connection_tool_mappings: [{ connection_name: 'upstream', tools: ['echo', 'add', 'fail'] }] });
    plainId = (plain.body as { config: { id: string } }).config.id;
    const captured = await tenant.post('/api/v1/mcp/configs', {
      name: 'captured',
      connection_tool_mappings: [{ connection_name: 'upstream', tools: ['echo'] }],
      audit: { capture_payloads: true },
    });
    expect(captured.status).toBe(201);
    expect((captured.body as { config: { audit: unknown } }).config.audit).toEqual({ capture_payloads: true });
    capturedId = (captured.body as { config: { id: string } }).config.id;
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('records sizes and SHA-256 of arguments and results by default, and payloads only where the config opts in, redacted', async () => {
    expect(((await tenant.get(`/api/v1/mcp/configs/${plainId}`)).body as { config: { audit: unknown } }).config.audit).toEqual({ capture_payloads: false });
    const plain = await agent(plainId);
    for (const text of ['one', 'two', 'three']) await plain.callTool({ name: 'echo', arguments: { text } });
    await plain.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
    await plain.callTool({ name: 'fail', arguments: {} });
    expect(await callError(plain, 'image')).toMatchObject({ code: 'TOOL_NOT_FOUND' });
    const captured = await agent(capturedId);
    const secretArgs = { text: 'hi', password: SECRETS[0], nested: { API_KEY: SECRETS[1], list: [{ Authorization: `Bearer ${SECRETS[2]}` }] } };
    await captured.callTool({ name: 'echo', arguments: secretArgs });
    await captured.callTool({ name: 'echo', arguments: { text: 'again' } });

    const all = await waitFor(async () => {
      const e = await entries();
      return e.length === 8 && e.every((x) => x.status !== 'STARTED') && e.every((x) => x.status === 'DENIED' || x.result_sha256) ? e : undefined;
    }, { what: 'eight finished entries' });
    const one = all.find((e) => e.config_id === plainId && e.tool_name === 'echo' && e.status === 'SUCCESS')!;
    const args = all.filter((e) => e.config_id === plainId && e.tool_name === 'echo');
    const expected = ['one', 'two', 'three'].map((text) => canonicalJson({ text }));
    expect(args.map((e) => e.arguments_sha256).sort()).toEqual(expected.map(sha256).sort());
    expect(one.arguments_size).toBe(Buffer.byteLength(expected.find((t) => sha256(t) === one.arguments_sha256)!));
    expect(one.result_size).toBeGreaterThan(0);
    expect(one.result_sha256).toMatch(/^[0-9a-f]{64}$/);
    for (const e of all.filter((x) => x.config_id === plainId)) {
      expect(e).not.toHaveProperty('arguments');
      expect(e).not.toHaveProperty('result');
    }

    const [again, secret] = all.filter((e) => e.config_id === capturedId);
    expect(again!.arguments).toEqual({ text: 'again' });
    expect(secret!.arguments).toEqual({ text: 'hi', password: '[REDACTED]', nested: { API_KEY: '[REDACTED]', list: [{ Authorization: '[REDACTED]' }] } });
    expect(secret!.result).toMatchObject({ content: [{ type: 'text', text: 'hi' }] });
    // The digest is of what the agent sent, before redaction.
    expect(secret!.arguments_sha256).toBe(sha256(canonicalJson(secretArgs)));
    const single = (await tenant.get(`/api/v1/tool_call_logs/${secret!.execution_id}`)).body as { tool_call_log: Entry };
    expect(single.tool_call_log.arguments).toEqual(secret!.arguments);
    const everything = JSON.stringify(all) + stack.logs().join('\n');
    for (const s of SECRETS) expect(everything).not.toContain(s);
  });

  it('finds denials by status and reason code', async () => {
    const denied = await entries('&status=DENIED&error_code=TOOL_NOT_FOUND');
    expect(denied.map((e) => [e.tool_name, e.status, e.error_code])).toEqual([['image', 'DENIED', 'TOOL_NOT_FOUND']]);
    expect(await entries('&error_code=UPSTREAM_ERROR')).toHaveLength(1);
    expect(await entries('&status=DENIED&error_code=INVALID_ARGUMENT')).toHaveLength(0);
    expect((await tenant.get('/api/v1/tool_call_logs?error_code=NOT_A_CODE')).status).toBe(400);
  });

  it('exports any range as NDJSON, page after page, newest first', async () => {
    const listed = (await entries()).map((e) => e.execution_id);
    const res = await fetch(`${stack.baseUrl}/api/v1/tool_call_logs/export?page_size=3`, { headers: { authorization: `Bearer ${tenantKey}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await res.text()).split('\n');
    expect(lines.pop()).toBe('');
    const exported = lines.map((l) => JSON.parse(l) as Entry);
    expect(exported.map((e) => e.execution_id)).toEqual(listed);
    expect(exported.length).toBeGreaterThan(3 * 2);
    expect(exported.find((e) => e.config_id === capturedId && (e.arguments as { text?: string }).text === 'hi')?.arguments).toMatchObject({ password: '[REDACTED]' });

    const filtered = await fetch(`${stack.baseUrl}/api/v1/tool_call_logs/export?status=DENIED&start_time=2020-01-01T00:00:00Z`, { headers: { authorization: `Bearer ${tenantKey}` } });
    expect((await filtered.text()).trim().split('\n').map((l) => (JSON.parse(l) as Entry).tool_name)).toEqual(['image']);
    const bad = await fetch(`${stack.baseUrl}/api/v1/tool_call_logs/export?status=NOPE`, { headers: { authorization: `Bearer ${tenantKey}` } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    expect((await fetch(`${stack.baseUrl}/api/v1/tool_call_logs/export`)).status).toBe(401);
    expect((await fetch(`${stack.baseUrl}/api/v1/tool_call_logs/export`, { headers: { authorization: 'Bearer vmcp_not_a_key_at_all' } })).status).toBe(401);
  });

  it("verifies the tenant's hash chain, over all of it or a range", async () => {
    // 7 allowed calls write started + finished, the denial one record: 15 records.
    const v = await waitFor(async () => {
      const r = (await tenant.get('/api/v1/audit/verify')).body as { ok: boolean; checked: number };
      return r.checked === 15 ? r : undefined;
    }, { what: '15 chained records' });
    expect(v).toMatchObject({ ok: true, checked: 15, first_seq: 1, last_seq: 15, anchor_seq: 0 });
    expect((await tenant.get('/api/v1/audit/verify?from=2&to=5')).body).toMatchObject({ ok: true, checked: 4, first_seq: 2, last_seq: 5 });
    expect((await other.get('/api/v1/audit/verify')).body).toMatchObject({ ok: true, checked: 0 });
    expect((await tenant.get('/api/v1/audit/verify?from=0')).status).toBe(400);
  });

  it('keeps 90 days unless the tenant sets its own retention', async () => {
    expect((await tenant.get('/api/v1/audit/settings')).body).toEqual({ settings: { retention_days: 90, updated_at: null } });
    const put = await tenant.put('/api/v1/audit/settings', { retention_days: 7 });
    expect(put.status).toBe(200);
    expect((put.body as { settings: unknown }).settings).toMatchObject({ retention_days: 7, updated_at: expect.any(String) });
    expect(((await tenant.get('/api/v1/audit/settings')).body as { settings: { retention_days: number } }).settings.retention_days).toBe(7);
    expect(((await other.get('/api/v1/audit/settings')).body as { settings: { retention_days: number } }).settings.retention_days).toBe(90);
    for (const body of [{ retention_days: 0 }, { retention_days: 3651 }, {}, { retention_days: 7, extra: 1 }]) {
      expect((await tenant.put('/api/v1/audit/settings', body)).status).toBe(400);
    }
    const doc = (await fetch(`${stack.baseUrl}/openapi.json`).then((r) => r.json())) as { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, unknown> }> }>> };
    expect(Object.keys(doc.paths['/api/v1/tool_call_logs/export']!.get!.responses['200']!.content)).toEqual(['application/x-ndjson']);
    expect(doc.paths['/api/v1/audit/settings']).toHaveProperty('put');
    expect(doc.paths['/api/v1/audit/verify']).toHaveProperty('get');
  });
});
