import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  api,
  startFakeJira,
  startFakeSalesforce,
  startNatsServer,
  startStack,
  type ApiClient,
  type FakeJira,
  type FakeSalesforce,
  type NatsServerHandle,
  type Stack,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError, connectAgent } from './mcp-client.js';

// The jira and salesforce native connectors through the whole gateway: five processes, the
// SDK client as the agent, a local Jira site (API token as basic auth) and a local Salesforce
// org (session id as bearer token), both recording every request.

const MIA_EMAIL = 'mia@example.com';
const MIA_API_TOKEN = 'ATATT_mia_e2e_7f3a9c';
const ANA_SESSION = '00De2e!ana_session_4b8d21';
const EDGE = '001D000000IRFmaIAH';

describe('jira and salesforce connectors end to end', () => {
  let nats: NatsServerHandle;
  let jiraSite: FakeJira;
  let org: FakeSalesforce;
  let stack: Stack;
  let tenant: ApiClient;
  let agent: Client;
  let sessionToken: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    jiraSite = await startFakeJira({ basic: [`${MIA_EMAIL}:${MIA_API_TOKEN}`], tokens: [] });
    org = await startFakeSalesforce({ tokens: [ANA_SESSION] });
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
    const admin = api(stack.baseUrl, stack.adminKey);
    const t = await admin.post('/api/v1/tenants', { name: 'acme' });
    expect(t.status).toBe(201);
    tenant = api(stack.baseUrl, (t.body as { api_key: string }).api_key);

    const jiraConn = await tenant.post('/api/v1/connections', { name: 'jira', connector: 'jira', auth_type: 'basic', settings: { base_url: jiraSite.url } });
    expect(jiraConn.status, JSON.stringify(jiraConn.body)).toBe(201);
    const sfConn = await tenant.post('/api/v1/connections', { name: 'crm', connector: 'salesforce', auth_type: 'bearer_token', settings: { base_url: org.url } });
    expect(sfConn.status, JSON.stringify(sfConn.body)).toBe(201);
    for (const [connection_name, static_auth] of [
      ['jira', { username: MIA_EMAIL, password: MIA_API_TOKEN }],
      ['crm', { token: ANA_SESSION }],
    ] as const) {
      const account = await tenant.post('/api/v1/connected_accounts', { connection_name, identifier: 'alice', authorization_details: { static_auth } });
      expect(account.status, JSON.stringify(account.body)).toBe(201);
    }
    const config = await tenant.post('/api/v1/mcp/configs', {
      name: 'support',
      connection_tool_mappings: [
        { connection_name: 'jira', tools: ['jira_search_issues', 'jira_get_issue', 'jira_transition_issue'] },
        { connection_name: 'crm', tools: ['salesforce_query', 'salesforce_update_record'] },
      ],
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
    await jiraSite?.close();
    await org?.close();
    await nats?.stop();
  });

  it('lists both in the catalog with their auth types, OAuth endpoints and tools', async () => {
    const connectors = await tenant.get('/api/v1/connectors?include=tools');
    expect(connectors.status).toBe(200);
    const byId = Object.fromEntries((connectors.body as { connectors: Array<Record<string, unknown>> }).connectors.map((c) => [c.id, c]));
    expect(byId.jira).toMatchObject({
      name: 'Jira Cloud',
      auth_types: ['basic', 'bearer_token', 'oauth2'],
      dynamic_tools: false,
      oauth: { authorize_url: 'https://auth.atlassian.com/authorize?audience=api.atlassian.com&prompt=consent', token_url: 'https://auth.atlassian.com/oauth/token', scopes: ['read:jira-work', 'write:jira-work', 'offline_access'] },
    });
    expect(byId.salesforce).toMatchObject({
      name: 'Salesforce',
      auth_types: ['oauth2', 'bearer_token'],
      oauth: { token_url: 'https://login.salesforce.com/services/oauth2/token', revocation_url: 'https://login.salesforce.com/services/oauth2/revoke', scopes: ['api', 'refresh_token'] },
    });
    const jiraTools = await tenant.get('/api/v1/tools?connector=jira');
    expect((jiraTools.body as { tools: Array<{ name: string }> }).tools.map((t) => t.name)).toEqual([
      'jira_search_issues',
      'jira_get_issue',
      'jira_create_issue',
      'jira_add_comment',
      'jira_list_transitions',
      'jira_transition_issue',
    ]);
    const sfTools = await tenant.get('/api/v1/tools?connector=salesforce');
    expect((sfTools.body as { tools: Array<{ name: string }> }).tools.map((t) => t.name)).toEqual(['salesforce_query', 'salesforce_get_record', 'salesforce_create_record', 'salesforce_update_record']);
  });

  it('refuses connections without their per-site host and configs naming missing tools', async () => {
    const noSite = await tenant.post('/api/v1/connections', { name: 'jira2', connector: 'jira', auth_type: 'basic', settings: {} });
    expect(noSite.status).toBe(400);
    expect((noSite.body as { error: { message: string } }).error.message).toContain('settings.base_url is required for connector jira');
    const noInstance = await tenant.post('/api/v1/connections', { name: 'crm2', connector: 'salesforce', auth_type: 'bearer_token', settings: {} });
    expect(noInstance.status).toBe(400);
    expect((noInstance.body as { error: { message: string } }).error.message).toContain("the org's instance URL");

    const bad = await tenant.post('/api/v1/mcp/configs', { name: 'bad', connection_tool_mappings: [{ connection_name: 'crm', tools: ['salesforce_delete_record'] }] });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { message: string } }).error.message).toContain('valid tools: salesforce_query, salesforce_get_record, salesforce_create_record, salesforce_update_record');
  });

  it('shows the agent exactly the mapped tools', async () => {
    const { tools } = await agent.listTools();
    expect(tools.map((t) => t.name)).toEqual(['jira_search_issues', 'jira_get_issue', 'jira_transition_issue', 'salesforce_query', 'salesforce_update_record']);
    expect(tools.find((t) => t.name === 'jira_transition_issue')!.annotations).toEqual({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true });
  });

  it('searches Jira with the user\'s API token, pages, and transitions an issue', async () => {
    jiraSite.reset();
    const first = await agent.callTool({ name: 'jira_search_issues', arguments: { jql: 'project = ED ORDER BY key ASC', max_results: 2 } });
    expect(first.isError).toBeFalsy();
    expect(first.structuredContent).toMatchObject({ issues: [{ key: 'ED-1', status: 'Done' }, { key: 'ED-2', status: 'To Do' }], next_page_token: expect.any(String) });
    const second = await agent.callTool({ name: 'jira_search_issues', arguments: { jql: 'project = ED ORDER BY key ASC', max_results: 2, next_page_token: (first.structuredContent as { next_page_token: string }).next_page_token } });
    expect(second.structuredContent).toMatchObject({ issues: [{ key: 'ED-3' }], next_page_token: null });

    const [req] = jiraSite.requests;
    expect(req).toMatchObject({ method: 'GET', path: '/rest/api/3/search/jql', query: { jql: 'project = ED ORDER BY key ASC', maxResults: '2' } });
    expect(req!.headers.authorization).toBe(`Basic ${Buffer.from(`${MIA_EMAIL}:${MIA_API_TOKEN}`).toString('base64')}`);
    expect(JSON.stringify(jiraSite.requests.map((r) => r.headers))).not.toContain(sessionToken);

    const moved = await agent.callTool({ name: 'jira_transition_issue', arguments: { issue: 'ED-2', transition_id: '21' } });
    expect(moved.structuredContent).toEqual({ issue: 'ED-2', transition_id: '21', transitioned: true });
    expect(jiraSite.issues.get('ED-2')?.status).toBe('In Progress');

    const missing = await agent.callTool({ name: 'jira_get_issue', arguments: { issue: 'ED-404' } });
    expect(missing).toMatchObject({ isError: true, content: [{ type: 'text', text: 'Jira answered HTTP 404: Issue does not exist or you do not have permission to see it.' }] });
  });

  it('queries and updates Salesforce with the user\'s session, and passes its errors on', async () => {
    org.reset();
    const found = await agent.callTool({ name: 'salesforce_query', arguments: { q: "SELECT Id, Name FROM Account WHERE Name = 'Edge Communications'" } });
    expect(found.structuredContent).toEqual({ total_size: 1, done: true, records: [{ Id: EDGE, Name: 'Edge Communications' }], next_records_url: null });
    const updated = await agent.callTool({ name: 'salesforce_update_record', arguments: { sobject: 'Account', id: EDGE, fields: { BillingCity: 'San Francisco' } } });
    expect(updated.structuredContent).toEqual({ sobject: 'Account', id: EDGE, updated: true });
    expect(org.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /services/data/v61.0/query', `PATCH /services/data/v61.0/sobjects/Account/${EDGE}`]);
    expect(org.tokensSeen()).toEqual([ANA_SESSION, ANA_SESSION]);
    expect(org.records.get(EDGE)?.fields.BillingCity).toBe('San Francisco');

    const invalid = await agent.callTool({ name: 'salesforce_update_record', arguments: { sobject: 'Account', id: EDGE, fields: { Nickname: 'x' } } });
    expect(invalid).toMatchObject({ isError: true, content: [{ type: 'text', text: "Salesforce answered HTTP 400: INVALID_FIELD: No such column 'Nickname' on sobject of type Account" }] });
  });

  it('refuses bad arguments and unmapped tools before the provider sees anything', async () => {
    jiraSite.reset();
    org.reset();
    expect(await callError(agent, 'jira_get_issue', { issue: '../../admin' })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await callError(agent, 'salesforce_query', { next_records_url: 'https://evil.example/steal' })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await callError(agent, 'salesforce_create_record', { sobject: 'Account', fields: { Name: 'x' } })).toMatchObject({ code: 'TOOL_NOT_FOUND' });
    expect(jiraSite.requests).toHaveLength(0);
    expect(org.requests).toHaveLength(0);
  });
});
