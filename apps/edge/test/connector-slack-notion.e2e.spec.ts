import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  api,
  NOTION_PROJECTS_PAGE_ID,
  startFakeNotion,
  startFakeSlack,
  startNatsServer,
  startStack,
  type ApiClient,
  type FakeNotion,
  type FakeSlack,
  type NatsServerHandle,
  type Stack,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError, connectAgent } from './mcp-client.js';

// The slack and notion native connectors through the whole gateway: five processes, the SDK
// client as the agent, one config mapping tools of both, and local Slack and Notion
// stand-ins that record every request.

const ALICE_SLACK = 'xoxp-alice-e2e-token-7b2e41';
const ALICE_NOTION = 'ntn_alice_e2e_secret_93fa0c';

describe('slack and notion connectors end to end', () => {
  let nats: NatsServerHandle;
  let slack: FakeSlack;
  let notion: FakeNotion;
  let stack: Stack;
  let tenant: ApiClient;
  let agent: Client;
  let sessionToken: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    slack = await startFakeSlack({ tokens: [ALICE_SLACK] });
    notion = await startFakeNotion({ tokens: [ALICE_NOTION] });
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
    const admin = api(stack.baseUrl, stack.adminKey);
    const t = await admin.post('/api/v1/tenants', { name: 'acme' });
    expect(t.status).toBe(201);
    tenant = api(stack.baseUrl, (t.body as { api_key: string }).api_key);

    for (const [name, base_url, token] of [
      ['slack', slack.url, ALICE_SLACK],
      ['notion', notion.url, ALICE_NOTION],
    ] as const) {
      const conn = await tenant.post('/api/v1/connections', { name, connector: name, auth_type: 'bearer_token', settings: { base_url } });
      expect(conn.status, JSON.stringify(conn.body)).toBe(201);
      const account = await tenant.post('/api/v1/connected_accounts', { connection_name: name, identifier: 'alice', authorization_details: { static_auth: { token } } });
      expect(account.status, JSON.stringify(account.body)).toBe(201);
    }
    const config = await tenant.post('/api/v1/mcp/configs', {
      name: 'standup',
      connection_tool_mappings: [
        { connection_name: 'slack', tools: ['slack_list_channels', 'slack_post_message'] },
        { connection_name: 'notion', tools: ['notion_search', 'notion_create_page'] },
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
    await slack?.close();
    await notion?.close();
    await nats?.stop();
  });

  it('lists both in the catalog, with their OAuth endpoints and tools', async () => {
    const connectors = (await tenant.get('/api/v1/connectors?include=tools')).body as { connectors: Array<Record<string, unknown>> };
    expect(connectors.connectors.find((c) => c.id === 'slack')).toMatchObject({
      name: 'Slack',
      auth_types: ['oauth2', 'bearer_token'],
      dynamic_tools: false,
      oauth: { authorize_url: 'https://slack.com/oauth/v2/authorize?user_scope=search%3Aread', token_url: 'https://slack.com/api/oauth.v2.access' },
    });
    expect(connectors.connectors.find((c) => c.id === 'notion')).toMatchObject({ name: 'Notion', oauth: { token_url: 'https://api.notion.com/v1/oauth/token', scopes: [] } });

    const slackTools = (await tenant.get('/api/v1/tools?connector=slack')).body as { tools: Array<{ name: string }> };
    expect(slackTools.tools.map((t) => t.name)).toEqual(['slack_post_message', 'slack_list_channels', 'slack_channel_history', 'slack_search_messages', 'slack_get_user']);
    const notionTools = (await tenant.get('/api/v1/tools?connector=notion')).body as { tools: Array<Record<string, unknown>> };
    expect(notionTools.tools.map((t) => t.name)).toEqual(['notion_search', 'notion_get_page', 'notion_create_page', 'notion_query_database']);
    expect(notionTools.tools.find((t) => t.name === 'notion_create_page')).toMatchObject({
      connector: 'notion',
      input_schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', required: ['parent'], additionalProperties: false },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    });
  });

  it('refuses a config naming a tool the connector does not have', async () => {
    const r = await tenant.post('/api/v1/mcp/configs', { name: 'bad', connection_tool_mappings: [{ connection_name: 'slack', tools: ['slack_delete_message'] }] });
    expect(r.status).toBe(400);
    const error = (r.body as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('valid tools: slack_post_message, slack_list_channels, slack_channel_history, slack_search_messages, slack_get_user');
  });

  it('shows the agent exactly the mapped tools', async () => {
    const { tools } = await agent.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['notion_create_page', 'notion_search', 'slack_list_channels', 'slack_post_message']);
    expect(tools.find((t) => t.name === 'slack_post_message')!.annotations).toEqual({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true });
  });

  it('calls Slack with the user\'s own token, and passes ok:false on as a tool error', async () => {
    slack.reset();
    const channels = await agent.callTool({ name: 'slack_list_channels', arguments: { limit: 2 } });
    expect(channels.structuredContent).toMatchObject({ channels: [{ id: 'C012AB3CD', name: 'general' }, { id: 'C061EG9T2' }], next_cursor: expect.any(String) });

    const posted = await agent.callTool({ name: 'slack_post_message', arguments: { channel: 'C012AB3CD', text: 'Standup in 5' } });
    expect(posted.isError).toBeFalsy();
    expect(posted.structuredContent).toMatchObject({ channel: 'C012AB3CD', thread_ts: null, text: 'Standup in 5' });
    expect(slack.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/conversations.list', 'POST /api/chat.postMessage']);
    expect(slack.requests[1]!.body).toEqual({ channel: 'C012AB3CD', text: 'Standup in 5' });
    expect(slack.tokensSeen()).toEqual([ALICE_SLACK, ALICE_SLACK]);
    expect(JSON.stringify(slack.requests.map((r) => r.headers))).not.toContain(sessionToken);

    const archived = await agent.callTool({ name: 'slack_post_message', arguments: { channel: 'C0OLD0001', text: 'anyone?' } });
    expect(archived).toMatchObject({ isError: true, content: [{ type: 'text', text: 'Slack returned an error: is_archived' }] });
  });

  it('calls Notion with the Notion-Version header and creates a page', async () => {
    notion.reset();
    const found = await agent.callTool({ name: 'notion_search', arguments: { query: 'projects' } });
    expect(found.structuredContent).toMatchObject({ results: [{ object: 'page', id: NOTION_PROJECTS_PAGE_ID, title: 'Projects' }], has_more: false });

    const created = await agent.callTool({ name: 'notion_create_page', arguments: { parent: { page_id: NOTION_PROJECTS_PAGE_ID }, title: 'Standup notes', content: 'All green.' } });
    expect(created.isError).toBeFalsy();
    expect(created.structuredContent).toMatchObject({ title: 'Standup notes', parent: { type: 'page_id', id: NOTION_PROJECTS_PAGE_ID } });
    expect(notion.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/search', 'POST /v1/pages']);
    expect(notion.requests[1]!.headers).toMatchObject({ authorization: `Bearer ${ALICE_NOTION}`, 'notion-version': '2022-06-28' });
  });

  it('refuses bad arguments and unmapped tools before the provider sees anything', async () => {
    slack.reset();
    notion.reset();
    expect(await callError(agent, 'notion_create_page', { parent: { workspace: true }, title: 'x' })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await callError(agent, 'slack_search_messages', { query: 'x' })).toMatchObject({ code: 'TOOL_NOT_FOUND' });
    expect(slack.requests).toHaveLength(0);
    expect(notion.requests).toHaveLength(0);
  });
});
