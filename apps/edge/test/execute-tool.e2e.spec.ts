import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  api,
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
import { callError, connectAgent, textOf } from './mcp-client.js';

// POST /api/v1/execute_tool: the tenant backend's way to run a tool for a user. It must
// take the same path as an MCP tools/call (policy, the user's credential, audit), so the
// tests call the same tools both ways and compare what the caller and the audit log see.

const ALICE_SECRET = 'alice-upstream-secret-0b61e2';

interface Entry {
  execution_id: string;
  config_id: string | null;
  connection_name: string | null;
  connector: string | null;
  connected_account_id: string | null;
  identifier: string;
  tool_name: string;
  source: 'mcp' | 'api';
  agent_run_id: string | null;
  status: string;
  error_code: string | null;
}

interface ExecuteReply {
  execution_id: string;
  successful: boolean;
  data: unknown;
  error: string | null;
  content: Array<{ type: string; text?: string }>;
}

interface ErrorReply {
  error: { code: string; message: string };
}

describe('execute_tool', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let tenant: ApiClient;
  let other: ApiClient;
  let configId: string;
  let otherConfigId: string;
  let agent: Client;

  const execute = (body: unknown, as: ApiClient = tenant) => as.post<ExecuteReply & ErrorReply>('/api/v1/execute_tool', body);
  const logs = async (query: string) => ((await tenant.get(`/api/v1/tool_call_logs?page_size=200&${query}`)).body as { tool_call_logs: Entry[] }).tool_call_logs;
  /** The finished entry of a call (the audit writer is asynchronous). */
  const entry = (executionId: string) =>
    waitFor(async () => {
      const r = await tenant.get<{ tool_call_log: Entry }>(`/api/v1/tool_call_logs/${executionId}`);
      return r.status === 200 && r.body.tool_call_log.status !== 'STARTED' ? r.body.tool_call_log : undefined;
    });
  /** The one entry of a run, once it is there. */
  const onlyEntryOf = (runId: string) =>
    waitFor(async () => {
      const found = await logs(`agent_run_id=${runId}`);
      return found.length === 1 && found[0]!.status !== 'STARTED' ? found[0] : undefined;
    });
  /** The newest MCP entry of a tool, after `since`. */
  const mcpEntry = (tool: string, since: Set<string>) =>
    waitFor(async () => (await logs(`tool_name=${tool}`)).find((e) => e.source === 'mcp' && !since.has(e.execution_id) && e.status !== 'STARTED'));
  const seenIds = async () => new Set((await logs('')).map((e) => e.execution_id));
  /** What must match between an MCP call and the same execute_tool call. */
  const comparable = (e: Entry) => {
    const { execution_id: _id, source: _source, agent_run_id: _run, started_at: _s, finished_at: _f, duration_ms: _d, ...rest } = e as Entry & Record<string, unknown>;
    return rest;
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
    const admin = api(stack.baseUrl, stack.adminKey);
    tenant = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name: 'acme' })).body as { api_key: string }).api_key);
    other = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name: 'globex' })).body as { api_key: string }).api_key);

    for (const t of [tenant, other]) {
      expect((await t.post('/api/v1/connections', { name: 'upstream', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } })).status).toBe(201);
    }
    const account = await tenant.post('/api/v1/connected_accounts', {
      connection_name: 'upstream',
      identifier: 'alice',
      authorization_details: { static_auth: { token: ALICE_SECRET } },
    });
    expect(account.status).toBe(201);
    await other.post('/api/v1/connected_accounts', {
      connection_name: 'upstream',
      identifier: 'alice',
      authorization_details: { static_auth: { token: 'globex-alice-token' } },
    });

    const config = await tenant.post<{ config: { id: string; mcp_server_url: string } }>('/api/v1/mcp/configs', {
      name: 'support',
      connection_tool_mappings: [{ connection_name: 'upstream', tools: ['echo', 'add', 'fail', 'whoami'], prefix: 'up_' }],
    });
    expect(config.status).toBe(201);
    configId = config.body.config.id;
    const otherConfig = await other.post<{ config: { id: string } }>('/api/v1/mcp/configs', {
      name: 'support',
      connection_tool_mappings: [{ connection_name: 'upstream', tools: ['echo'] }],
    });
    otherConfigId = otherConfig.body.config.id;

    const minted = await tenant.post<{ token: string; mcp_server_url: string }>(`/api/v1/mcp/configs/${configId}/tokens`, { identifier: 'alice' });
    agent = await connectAgent(minted.body.mcp_server_url, minted.body.token);
  });

  afterAll(async () => {
    await agent?.close();
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('gives the same result and the same audit entry as an MCP call, with source and agent_run_id', async () => {
    const before = await seenIds();
    const viaMcp = await agent.callTool({ name: 'up_echo', arguments: { text: 'hello' } });
    const viaApi = await execute({ tool_name: 'up_echo', params: { text: 'hello' }, identifier: 'alice', config_id: configId, agent_run_id: 'run-same-1' });

    expect(viaApi.status).toBe(200);
    expect(viaApi.body).toEqual({ execution_id: expect.stringMatching(/^exe_/), successful: true, data: 'hello', error: null, content: viaMcp.content });
    expect(textOf(viaMcp)).toBe('hello');

    const apiEntry = await entry(viaApi.body.execution_id);
    const mcp = await mcpEntry('up_echo', before);
    expect(apiEntry).toMatchObject({ source: 'api', agent_run_id: 'run-same-1', status: 'SUCCESS', config_id: configId, connection_name: 'upstream', connector: 'mcp', identifier: 'alice', tool_name: 'up_echo' });
    expect(mcp).toMatchObject({ source: 'mcp', agent_run_id: null });
    expect(comparable(apiEntry)).toEqual(comparable(mcp!));
    // Both reached the upstream under alice's own credential.
    const lastTwo = upstream.calls.slice(-2);
    expect(lastTwo.map((c) => c.tool)).toEqual(['echo', 'echo']);
    for (const c of lastTwo) expect(c.headers.authorization).toBe(`Bearer ${ALICE_SECRET}`);
  });

  it('returns structured content as data', async () => {
    const r = await execute({ tool_name: 'up_add', params: { a: 2, b: 3 }, identifier: 'alice', config_id: configId });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ sum: 5 });
    expect(r.body.successful).toBe(true);
  });

  it("runs a connection's own tool by connection_name, without a config, and audits it so", async () => {
    const r = await execute({ tool_name: 'echo', params: { text: 'direct' }, identifier: 'alice', connection_name: 'upstream', agent_run_id: 'run-direct-1' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ successful: true, data: 'direct' });
    expect(upstream.calls.at(-1)).toMatchObject({ tool: 'echo', arguments: { text: 'direct' } });
    expect(upstream.calls.at(-1)!.headers.authorization).toBe(`Bearer ${ALICE_SECRET}`);
    expect(await entry(r.body.execution_id)).toMatchObject({
      source: 'api',
      agent_run_id: 'run-direct-1',
      config_id: null,
      connection_name: 'upstream',
      connector: 'mcp',
      identifier: 'alice',
      tool_name: 'echo',
      status: 'SUCCESS',
    });
    // By connection the name is the connector's own: the config's prefix means nothing here.
    const prefixed = await execute({ tool_name: 'up_echo', params: { text: 'x' }, identifier: 'alice', connection_name: 'upstream' });
    expect(prefixed.status).toBe(404);
    expect(prefixed.body.error.code).toBe('TOOL_NOT_FOUND');
  });

  it("reports a tool's error result as successful: false, as MCP does, and audits both as ERROR", async () => {
    const before = await seenIds();
    const viaMcp = await agent.callTool({ name: 'up_fail', arguments: {} });
    const viaApi = await execute({ tool_name: 'up_fail', identifier: 'alice', config_id: configId, agent_run_id: 'run-fail-1' });
    expect(viaMcp.isError).toBe(true);
    expect(viaApi.status).toBe(200);
    expect(viaApi.body).toMatchObject({ successful: false, data: null, error: textOf(viaMcp), content: viaMcp.content });
    const apiEntry = await entry(viaApi.body.execution_id);
    expect(apiEntry).toMatchObject({ status: 'ERROR', error_code: 'UPSTREAM_ERROR' });
    expect(comparable(apiEntry)).toEqual(comparable((await mcpEntry('up_fail', before))!));
  });

  it('refuses what MCP refuses, with the same code, before the upstream, and audits it as DENIED', async () => {
    const cases = [
      { name: 'unmapped tool', tool: 'up_image', args: {}, identifier: 'alice', code: 'TOOL_NOT_FOUND', status: 404 },
      { name: 'invalid arguments', tool: 'up_add', args: { a: 'two', b: 3 }, identifier: 'alice', code: 'INVALID_ARGUMENT', status: 400 },
      { name: 'no account', tool: 'up_echo', args: { text: 'x' }, identifier: 'mallory', code: 'ACCOUNT_NOT_ACTIVE', status: 412 },
    ];
    const upstreamBefore = upstream.calls.length;
    for (const c of cases) {
      const runId = `run-deny-${c.code}`;
      const r = await execute({ tool_name: c.tool, params: c.args, identifier: c.identifier, config_id: configId, agent_run_id: runId });
      expect(r.status, c.name).toBe(c.status);
      expect(r.body.error.code, c.name).toBe(c.code);
      expect(await onlyEntryOf(runId), c.name).toMatchObject({ status: 'DENIED', error_code: c.code, source: 'api', tool_name: c.tool, identifier: c.identifier });

      // The same call over MCP (as alice, or as a user without an account).
      let client = agent;
      if (c.identifier !== 'alice') {
        const minted = await tenant.post<{ token: string; mcp_server_url: string }>(`/api/v1/mcp/configs/${configId}/tokens`, { identifier: c.identifier });
        client = await connectAgent(minted.body.mcp_server_url, minted.body.token);
      }
      expect(await callError(client, c.tool, c.args), c.name).toMatchObject({ code: c.code });
      if (client !== agent) await client.close();
    }
    expect(upstream.calls.length).toBe(upstreamBefore);
  });

  it('rejects malformed requests with a precise 400 and runs nothing', async () => {
    const upstreamBefore = upstream.calls.length;
    const base = { tool_name: 'up_echo', params: { text: 'x' }, identifier: 'alice' };
    const bad: Array<[string, unknown]> = [
      ['both config_id and connection_name', { ...base, config_id: configId, connection_name: 'upstream' }],
      ['neither config_id nor connection_name', base],
      ['an unknown field', { ...base, config_id: configId, arguments: {} }],
      ['params not an object', { ...base, config_id: configId, params: ['x'] }],
      ['an empty tool name', { ...base, config_id: configId, tool_name: '' }],
      ['a tool name of 257 characters', { ...base, config_id: configId, tool_name: 'x'.repeat(257) }],
      ['an empty identifier', { ...base, config_id: configId, identifier: '' }],
      ['an agent_run_id of 256 characters', { ...base, config_id: configId, agent_run_id: 'r'.repeat(256) }],
      ['a malformed config id', { ...base, config_id: 'not-a-config' }],
      ['a malformed connection name', { ...base, connection_name: 'Bad Name' }],
      ['an array body', [base]],
    ];
    for (const [what, body] of bad) {
      const r = await execute(body);
      expect(r.status, what).toBe(400);
      expect(r.body.error.code, what).toBe('INVALID_ARGUMENT');
    }
    expect((await execute({ ...base, config_id: configId })).status).toBe(200);
    const notJson = await tenant.postRaw<ErrorReply>('/api/v1/execute_tool', '{"tool_name":', 'application/json');
    expect(notJson.status).toBe(400);
    const tooLarge = await execute({ ...base, config_id: configId, params: { text: 'x'.repeat(2 * 1024 * 1024) } });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(upstream.calls.length).toBe(upstreamBefore + 1);
  });

  it("answers 401 without a key and never reaches another tenant's config, connection or account", async () => {
    const anonymous = await fetch(`${stack.baseUrl}/api/v1/execute_tool`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tool_name: 'up_echo', params: { text: 'x' }, identifier: 'alice', config_id: configId }),
    });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as ErrorReply).error.code).toBe('UNAUTHENTICATED');

    const upstreamBefore = upstream.calls.length;
    // Globex's config id with acme's key: as if it did not exist.
    const foreign = await execute({ tool_name: 'echo', params: { text: 'x' }, identifier: 'alice', config_id: otherConfigId, agent_run_id: 'run-foreign-1' });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('CONFIG_NOT_FOUND');
    // Acme's config with globex's key: the same.
    const reverse = await execute({ tool_name: 'up_echo', params: { text: 'x' }, identifier: 'alice', config_id: configId }, other);
    expect(reverse.status).toBe(404);
    expect(reverse.body.error.code).toBe('CONFIG_NOT_FOUND');
    expect(upstream.calls.length).toBe(upstreamBefore);

    // By connection, a name is looked up in the caller's own tenant: globex's "upstream"
    // runs under globex's alice, never acme's.
    const own = await execute({ tool_name: 'whoami', identifier: 'alice', connection_name: 'upstream' }, other);
    expect(own.status).toBe(200);
    expect(upstream.calls.at(-1)!.headers.authorization).toBe('Bearer globex-alice-token');
    expect(JSON.stringify(own.body)).not.toContain(ALICE_SECRET);

    const missing = await execute({ tool_name: 'echo', params: { text: 'x' }, identifier: 'alice', connection_name: 'nowhere', agent_run_id: 'run-missing-conn' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    expect(await onlyEntryOf('run-missing-conn')).toMatchObject({ status: 'DENIED', error_code: 'NOT_FOUND', connection_name: 'nowhere', config_id: null });
    // Each tenant's log holds its own calls only (globex: the refused attempt and the whoami).
    const globexLog = await waitFor(async () => {
      const found = ((await other.get('/api/v1/tool_call_logs?page_size=200')).body as { tool_call_logs: Array<Entry & { tenant_id: string }> }).tool_call_logs;
      return found.length === 2 && found.every((e) => e.status !== 'STARTED') ? found : undefined;
    });
    expect(globexLog.map((e) => e.status).sort()).toEqual(['DENIED', 'SUCCESS']);
    const acmeLog = (await logs('')) as Array<Entry & { tenant_id: string }>;
    expect(new Set(globexLog.map((e) => e.tenant_id)).size).toBe(1);
    expect(acmeLog.some((e) => e.tenant_id === globexLog[0]!.tenant_id)).toBe(false);
    expect(acmeLog.map((e) => e.execution_id)).not.toContain(own.body.execution_id);
  });

  it('stops a call at its deadline: the connection\'s per tool, overridden by the config\'s', async () => {
    const created = await tenant.post('/api/v1/connections', {
      name: 'timed',
      connector: 'mcp',
      auth_type: 'bearer_token',
      settings: { url: upstream.url, tool_timeouts_ms: { slow: 300 } },
    });
    expect(created.status).toBe(201);
    await tenant.post('/api/v1/connected_accounts', { connection_name: 'timed', identifier: 'alice', authorization_details: { static_auth: { token: ALICE_SECRET } } });
    // By connection: the connection's 300 ms for `slow`; other tools keep the default.
    const cut = await execute({ tool_name: 'slow', params: { ms: 1500 }, identifier: 'alice', connection_name: 'timed', agent_run_id: 'run-deadline-1' });
    expect(cut.status).toBe(504);
    expect(cut.body.error.code).toBe('DEADLINE_EXCEEDED');
    expect(await onlyEntryOf('run-deadline-1')).toMatchObject({ status: 'ERROR', error_code: 'DEADLINE_EXCEEDED' });
    expect((await execute({ tool_name: 'echo', params: { text: 'x' }, identifier: 'alice', connection_name: 'timed' })).status).toBe(200);

    // A config that gives `slow` more time: the same call completes through it.
    const config = await tenant.post<{ config: { id: string; connection_tool_mappings: Array<Record<string, unknown>> } }>('/api/v1/mcp/configs', {
      name: 'patient',
      connection_tool_mappings: [{ connection_name: 'timed', tools: ['slow', 'echo'], tool_timeouts_ms: { slow: 5000 } }],
    });
    expect(config.status).toBe(201);
    expect(config.body.config.connection_tool_mappings[0]).toMatchObject({ tool_timeouts_ms: { slow: 5000 } });
    const patient = await execute({ tool_name: 'slow', params: { ms: 600 }, identifier: 'alice', config_id: config.body.config.id });
    expect(patient.status).toBe(200);
    expect(patient.body.successful).toBe(true);

    // A config's deadline for the whole mapping cuts too.
    const hasty = await tenant.post<{ config: { id: string } }>('/api/v1/mcp/configs', {
      name: 'hasty',
      connection_tool_mappings: [{ connection_name: 'upstream', tools: ['slow'], timeout_ms: 200 }],
    });
    const hastyCut = await execute({ tool_name: 'slow', params: { ms: 1500 }, identifier: 'alice', config_id: hasty.body.config.id });
    expect(hastyCut.body.error.code).toBe('DEADLINE_EXCEEDED');

    // Deadlines are checked when set.
    for (const [what, mapping] of [
      ['a tool the mapping does not expose', { connection_name: 'timed', tools: ['echo'], tool_timeouts_ms: { slow: 1000 } }],
      ['a deadline under 100 ms', { connection_name: 'timed', tools: ['echo'], timeout_ms: 50 }],
      ['a deadline over 5 minutes', { connection_name: 'timed', tools: ['echo'], tool_timeouts_ms: { echo: 300_001 } }],
    ] as const) {
      const bad = await tenant.post<ErrorReply>('/api/v1/mcp/configs', { name: 'bad-deadline', connection_tool_mappings: [mapping] });
      expect(bad.status, what).toBe(400);
      expect(bad.body.error.code, what).toBe('INVALID_ARGUMENT');
    }
  });

  it('groups an agent run in the audit log by agent_run_id', async () => {
    const run = 'run-group-7';
    const ids: string[] = [];
    for (const text of ['one', 'two', 'three']) {
      const r = await execute({ tool_name: 'up_echo', params: { text }, identifier: 'alice', config_id: configId, agent_run_id: run });
      ids.push(r.body.execution_id);
    }
    await Promise.all(ids.map(entry));
    const found = await logs(`agent_run_id=${run}`);
    expect(found.map((e) => e.execution_id).sort()).toEqual([...ids].sort());
  });
});
