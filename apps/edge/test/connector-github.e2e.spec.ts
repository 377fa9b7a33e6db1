import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { api, startFakeGitHub, startNatsServer, startStack, waitFor, type ApiClient, type FakeGitHub, type NatsServerHandle, type Stack } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError, connectAgent } from './mcp-client.js';

// The github native connector through the whole gateway: five processes, the SDK client as
// the agent, and a local GitHub Enterprise stand-in (at /api/v3) that records every request.

const ALICE_PAT = 'ghp_alice_e2e_token_5c1d9a';

describe('github connector end to end', () => {
  let nats: NatsServerHandle;
  let gh: FakeGitHub;
  let stack: Stack;
  let tenant: ApiClient;
  let agent: Client;
  let sessionToken: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    gh = await startFakeGitHub({ prefix: '/api/v3', tokens: [ALICE_PAT] });
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
    const admin = api(stack.baseUrl, stack.adminKey);
    const t = await admin.post('/api/v1/tenants', { name: 'acme' });
    expect(t.status).toBe(201);
    tenant = api(stack.baseUrl, (t.body as { api_key: string }).api_key);

    const conn = await tenant.post('/api/v1/connections', { name: 'github', connector: 'github', auth_type: 'bearer_token', settings: { base_url: gh.url } });
    expect(conn.status, JSON.stringify(conn.body)).toBe(201);
    const account = await tenant.post('/api/v1/connected_accounts', { connection_name: 'github', identifier: 'alice', authorization_details: { static_auth: { token: ALICE_PAT } } });
    expect(account.status).toBe(201);
    const config = await tenant.post('/api/v1/mcp/configs', {
      name: 'triage',
      connection_tool_mappings: [{ connection_name: 'github', tools: ['github_list_issues', 'github_get_issue'] }],
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
    await gh?.close();
    await nats?.stop();
  });

  it('lists the catalog: connectors with auth types, tools with schemas and annotations', async () => {
    const connectors = await tenant.get('/api/v1/connectors?include=tools');
    expect(connectors.status).toBe(200);
    const entry = (connectors.body as { connectors: Array<Record<string, unknown>> }).connectors.find((c) => c.id === 'github');
    expect(entry).toMatchObject({
      name: 'GitHub',
      auth_types: ['oauth2', 'bearer_token'],
      dynamic_tools: false,
      oauth: { authorize_url: 'https://github.com/login/oauth/authorize', token_url: 'https://github.com/login/oauth/access_token', scopes: ['repo'] },
    });
    expect((entry!.tools as unknown[]).length).toBe(8);

    const tools = await tenant.get('/api/v1/tools?connector=github');
    expect(tools.status).toBe(200);
    const list = (tools.body as { tools: Array<Record<string, unknown>> }).tools;
    expect(list.map((t) => t.name)).toEqual([
      'github_list_issues',
      'github_get_issue',
      'github_create_issue',
      'github_create_issue_comment',
      'github_list_pull_requests',
      'github_get_pull_request',
      'github_get_repo',
      'github_search_issues',
    ]);
    expect(list.find((t) => t.name === 'github_create_issue')).toMatchObject({
      connector: 'github',
      description: expect.stringContaining('Opens a new issue'),
      input_schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', required: ['owner', 'repo', 'title'], additionalProperties: false },
      output_schema: { type: 'object' },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    });
    expect((await tenant.get('/api/v1/tools?connector=mcp')).body).toEqual({ tools: [] });
    expect((await tenant.get('/api/v1/tools?connector=nope')).status).toBe(404);
  });

  it('refuses a config naming a tool the connector does not have, listing the valid ones', async () => {
    const r = await tenant.post('/api/v1/mcp/configs', { name: 'bad', connection_tool_mappings: [{ connection_name: 'github', tools: ['github_get_issue', 'github_nope'] }] });
    expect(r.status).toBe(400);
    const error = (r.body as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('"github_nope"');
    expect(error.message).toContain(
      'valid tools: github_list_issues, github_get_issue, github_create_issue, github_create_issue_comment, github_list_pull_requests, github_get_pull_request, github_get_repo, github_search_issues',
    );
  });

  it('shows the agent exactly the mapped tools, with their schemas and annotations', async () => {
    const { tools } = await agent.listTools();
    expect(tools.map((t) => t.name)).toEqual(['github_list_issues', 'github_get_issue']);
    const get = tools.find((t) => t.name === 'github_get_issue')!;
    expect(get.inputSchema).toEqual({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        owner: expect.objectContaining({ type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$' }),
        repo: expect.objectContaining({ type: 'string' }),
        issue_number: expect.objectContaining({ type: 'integer', minimum: 1 }),
      },
      required: ['owner', 'repo', 'issue_number'],
      additionalProperties: false,
    });
    expect(get.outputSchema).toMatchObject({ type: 'object', required: expect.arrayContaining(['number', 'title', 'body']) });
    expect(get.annotations).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
    expect(get.title).toBe('Get a GitHub issue');
  });

  it('runs a call against GitHub with the user\'s own token, never the session token', async () => {
    gh.reset();
    const result = await agent.callTool({ name: 'github_get_issue', arguments: { owner: 'octocat', repo: 'Hello-World', issue_number: 1347 } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ number: 1347, title: 'Found a bug', body: "I'm having a problem with this.", labels: ['bug'], assignees: ['octocat'], milestone: 'v1.0' });
    expect(JSON.parse((result.content as Array<{ text: string }>)[0]!.text)).toEqual(result.structuredContent);

    expect(gh.requests).toHaveLength(1);
    const [req] = gh.requests;
    expect(req).toMatchObject({ method: 'GET', path: '/api/v3/repos/octocat/Hello-World/issues/1347' });
    expect(req!.headers).toMatchObject({ authorization: `Bearer ${ALICE_PAT}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' });
    expect(JSON.stringify(req!.headers)).not.toContain(sessionToken);
  });

  it('pages a listing and passes GitHub\'s 404 on as a tool error', async () => {
    const first = await agent.callTool({ name: 'github_list_issues', arguments: { owner: 'octocat', repo: 'Hello-World', per_page: 2 } });
    expect(first.structuredContent).toMatchObject({ issues: [{ number: 1349, is_pull_request: true }, { number: 1348 }], next_page: 2 });
    const second = await agent.callTool({ name: 'github_list_issues', arguments: { owner: 'octocat', repo: 'Hello-World', per_page: 2, page: 2 } });
    expect(second.structuredContent).toMatchObject({ issues: [{ number: 1347 }], next_page: null });

    const missing = await agent.callTool({ name: 'github_get_issue', arguments: { owner: 'octocat', repo: 'Hello-World', issue_number: 4242 } });
    expect(missing).toMatchObject({ isError: true, content: [{ type: 'text', text: 'GitHub answered HTTP 404: Not Found' }] });
  });

  it('refuses bad arguments and unmapped tools before GitHub sees anything', async () => {
    gh.reset();
    expect(await callError(agent, 'github_get_issue', { owner: '../admin', repo: 'Hello-World', issue_number: 1 })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await callError(agent, 'github_create_issue', { owner: 'octocat', repo: 'Hello-World', title: 'x' })).toMatchObject({ code: 'TOOL_NOT_FOUND' });
    expect(gh.requests).toHaveLength(0);
  });

  it('marks the account EXPIRED when GitHub refuses its token, and stops offering the tools', async () => {
    // The token is revoked at GitHub; the next call is refused and policy hears of it.
    gh.tokens.delete(ALICE_PAT);
    try {
      expect(await callError(agent, 'github_get_issue', { owner: 'octocat', repo: 'Hello-World', issue_number: 1347 })).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE' });
      await waitFor(async () => {
        const r = (await tenant.get('/api/v1/connected_accounts?identifier=alice')).body as { connected_accounts: Array<{ status: string }> };
        return r.connected_accounts[0]?.status === 'EXPIRED';
      }, { what: 'the account EXPIRED' });
      expect((await agent.listTools()).tools).toEqual([]);
    } finally {
      gh.tokens.add(ALICE_PAT);
    }
  });
});
