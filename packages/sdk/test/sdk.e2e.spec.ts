import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
// The SDK is published alone and depends on no internal lib; its tests still start the real stack.
import { startNatsServer, startStack, startUpstreamMcpServer, waitFor, type NatsServerHandle, type Stack, type UpstreamMcpServer } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vmcp, VmcpApiError, type McpConfig, type SessionToken, type ToolCallLog } from '../src/index.js';

// What a tenant backend does with the SDK, against the five services on a private NATS and
// a real upstream MCP server: set up, hand a URL and token to an agent, read the audit log.

const ALICE_SECRET = 'alice-upstream-secret-5d2e9a';

async function apiError(promise: Promise<unknown>): Promise<VmcpApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VmcpApiError);
  return err as VmcpApiError;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('@vmcp/sdk against the real stack', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let admin: Vmcp;
  let vmcp: Vmcp;
  let config: McpConfig;
  let token: SessionToken;
  const agents: Client[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
    admin = new Vmcp({ baseUrl: stack.baseUrl, apiKey: stack.adminKey });
  });

  afterAll(async () => {
    await Promise.allSettled(agents.map((a) => a.close()));
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('sets up a tenant: connection, connected account, config', async () => {
    const { tenant, api_key } = await admin.tenants.create({ name: 'acme' });
    expect(tenant.id).toMatch(/^ten_/);
    expect((await collect(admin.tenants.iterate({ page_size: 1 }))).map((t) => t.id)).toContain(tenant.id);
    vmcp = new Vmcp({ baseUrl: stack.baseUrl, apiKey: api_key });

    const { connection } = await vmcp.connections.create({ name: 'upstream', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } });
    expect(connection).toMatchObject({ id: expect.stringMatching(/^conn_/), name: 'upstream', settings: { url: upstream.url } });
    const { connected_account } = await vmcp.connectedAccounts.upsert({
      connection_name: 'upstream',
      identifier: 'alice',
      authorization_details: { static_auth: { token: ALICE_SECRET } },
    });
    expect(connected_account).toMatchObject({ id: expect.stringMatching(/^ca_/), identifier: 'alice', status: 'ACTIVE' });
    expect(JSON.stringify(connected_account)).not.toContain(ALICE_SECRET);
    ({ config } = await vmcp.configs.create({
      name: 'support',
      connection_tool_mappings: [{ connection_name: 'upstream', tools: ['echo', 'whoami'] }],
    }));
    expect(config.mcp_server_url).toBe(`${stack.publicUrl}/mcp/${config.id}`);

    expect((await vmcp.connections.get('upstream')).connection.id).toBe(connection.id);
    expect((await vmcp.connections.list()).connections.map((c) => c.name)).toEqual(['upstream']);
    expect((await vmcp.connectedAccounts.get(connected_account.id)).connected_account.status).toBe('ACTIVE');
    expect((await collect(vmcp.connectedAccounts.iterate({ identifier: 'alice' }))).map((a) => a.id)).toEqual([connected_account.id]);
    expect((await vmcp.configs.get(config.id)).config.name).toBe('support');
    expect((await collect(vmcp.configs.iterate())).map((c) => c.id)).toEqual([config.id]);
    expect((await vmcp.configs.connectedAccounts(config.id, { identifier: 'alice' })).connected_accounts).toEqual([
      expect.objectContaining({ connection_name: 'upstream', connected_account_id: connected_account.id, connected_account_status: 'ACTIVE' }),
    ]);
  });

  it('mints a token an MCP agent connects with, seeing exactly the scoped tools', async () => {
    token = await vmcp.configs.mintToken(config.id, { identifier: 'alice', expiry_seconds: 600 });
    expect(token).toMatchObject({ token_id: expect.stringMatching(/^tok_/), mcp_server_url: config.mcp_server_url });
    expect((await vmcp.tools.scoped({ config_id: config.id, identifier: 'alice' })).tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);

    const agent = new Client({ name: 'sdk-e2e-agent', version: '1.0.0' });
    agents.push(agent);
    await agent.connect(
      new StreamableHTTPClientTransport(new URL(token.mcp_server_url), { requestInit: { headers: { Authorization: `Bearer ${token.token}` } } }),
    );
    expect((await agent.listTools()).tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
    expect(await agent.callTool({ name: 'echo', arguments: { text: 'over mcp' } })).toMatchObject({ content: [{ type: 'text', text: 'over mcp' }] });
  });

  it('runs a tool with execute_tool and finds every call in the audit log', async () => {
    const result = await vmcp.tools.execute({ tool_name: 'echo', params: { text: 'over the api' }, identifier: 'alice', config_id: config.id, agent_run_id: 'run-1' });
    expect(result).toMatchObject({ execution_id: expect.stringMatching(/^exe_/), successful: true, data: 'over the api', error: null });

    // Audit entries are written from a stream, a moment after the call returned.
    const done = (e: ToolCallLog) => e.status !== 'STARTED';
    const logs = await waitFor(async () => {
      const all = await collect(vmcp.toolCallLogs.iterate({ identifier: 'alice', page_size: 1 }));
      return all.length === 2 && all.every(done) ? all : undefined;
    });
    expect(logs.map((e) => [e.source, e.tool_name, e.status])).toEqual([
      ['api', 'echo', 'SUCCESS'],
      ['mcp', 'echo', 'SUCCESS'],
    ]);
    expect((await vmcp.toolCallLogs.get(result.execution_id)).tool_call_log).toMatchObject({ agent_run_id: 'run-1', config_id: config.id });
    expect((await vmcp.toolCallLogs.list({ agent_run_id: 'run-1' })).tool_call_logs.map((e) => e.execution_id)).toEqual([result.execution_id]);
    expect((await collect(vmcp.toolCallLogs.export({ identifier: 'alice' }))).map((e) => e.execution_id)).toEqual(logs.map((e) => e.execution_id));
  });

  it('revokes the token: the agent is refused from then on', async () => {
    expect(await vmcp.tokens.revoke(token.token_id)).toEqual({ token_id: token.token_id, revoked: true });
    const after = await fetch(token.mcp_server_url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(after.status).toBe(401);
  });

  it('throws VmcpApiError with the status and code of each documented failure', async () => {
    const stranger = new Vmcp({ baseUrl: stack.baseUrl, apiKey: 'vmcp_not_a_real_key' });
    expect(await apiError(stranger.connections.list())).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect(await apiError(vmcp.connections.get('nope'))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    const invalid = await apiError(vmcp.configs.mintToken(config.id, { identifier: 'alice', expiry_seconds: 5 }));
    expect(invalid).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT' });
    expect(invalid.message).toMatch(/^POST \/api\/v1\/mcp\/configs\/cfg_\w+\/tokens: .*expiry_seconds/);
  });
});
