import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { api, startFakeGcal, startFakeGmail, startNatsServer, startStack, type ApiClient, type FakeGcal, type FakeGmail, type NatsServerHandle, type Stack } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError, connectAgent } from './mcp-client.js';

// The gmail and gcal native connectors through the whole gateway: five processes, the SDK
// client as the agent, and local Gmail and Calendar stand-ins that record every request.

const ALICE_GMAIL = 'ya29.alice_gmail_e2e_7f3a';
const ALICE_CAL = 'ya29.alice_calendar_e2e_91c2';

describe('gmail and gcal connectors end to end', () => {
  let nats: NatsServerHandle;
  let gm: FakeGmail;
  let cal: FakeGcal;
  let stack: Stack;
  let tenant: ApiClient;
  let agent: Client;
  let sessionToken: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    gm = await startFakeGmail({ tokens: [ALICE_GMAIL] });
    cal = await startFakeGcal({ tokens: [ALICE_CAL] });
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
    const admin = api(stack.baseUrl, stack.adminKey);
    const t = await admin.post('/api/v1/tenants', { name: 'acme' });
    expect(t.status).toBe(201);
    tenant = api(stack.baseUrl, (t.body as { api_key: string }).api_key);

    for (const [name, connector, url, token] of [
      ['mail', 'gmail', gm.url, ALICE_GMAIL],
      ['calendar', 'gcal', cal.url, ALICE_CAL],
    ] as const) {
      const conn = await tenant.post('/api/v1/connections', { name, connector, auth_type: 'bearer_token', settings: { base_url: url } });
      expect(conn.status, JSON.stringify(conn.body)).toBe(201);
      const account = await tenant.post('/api/v1/connected_accounts', { connection_name: name, identifier: 'alice', authorization_details: { static_auth: { token } } });
      expect(account.status, JSON.stringify(account.body)).toBe(201);
    }
    const config = await tenant.post('/api/v1/mcp/configs', {
      name: 'assistant',
      connection_tool_mappings: [
        { connection_name: 'mail', tools: ['gmail_fetch_mails', 'gmail_get_message'] },
        { connection_name: 'calendar', tools: ['gcal_list_events', 'gcal_create_event'] },
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
    await gm?.close();
    await cal?.close();
    await nats?.stop();
  });

  it('lists both connectors and their tools in the catalog', async () => {
    const connectors = (await tenant.get('/api/v1/connectors?include=tools')).body as { connectors: Array<Record<string, unknown>> };
    const google = { token_url: 'https://oauth2.googleapis.com/token', revocation_url: 'https://oauth2.googleapis.com/revoke' };
    expect(connectors.connectors.find((c) => c.id === 'gmail')).toMatchObject({ name: 'Gmail', auth_types: ['oauth2', 'bearer_token'], dynamic_tools: false, oauth: { ...google, scopes: ['https://www.googleapis.com/auth/gmail.modify'] } });
    expect(connectors.connectors.find((c) => c.id === 'gcal')).toMatchObject({ name: 'Google Calendar', oauth: google });

    const tools = (await tenant.get('/api/v1/tools?connector=gcal')).body as { tools: Array<Record<string, unknown>> };
    expect(tools.tools.map((t) => t.name)).toEqual(['gcal_list_events', 'gcal_create_event', 'gcal_update_event', 'gcal_delete_event', 'gcal_free_busy']);
    expect(tools.tools.find((t) => t.name === 'gcal_delete_event')).toMatchObject({ connector: 'gcal', annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true } });
  });

  it('refuses a config naming a tool the connector does not have', async () => {
    const r = await tenant.post('/api/v1/mcp/configs', { name: 'bad', connection_tool_mappings: [{ connection_name: 'mail', tools: ['gmail_delete_everything'] }] });
    expect(r.status).toBe(400);
    expect((r.body as { error: { message: string } }).error.message).toContain('valid tools: gmail_fetch_mails, gmail_get_message, gmail_send_mail, gmail_create_draft, gmail_list_labels');
  });

  it('shows the agent exactly the mapped tools', async () => {
    const { tools } = await agent.listTools();
    expect(tools.map((t) => t.name)).toEqual(['gmail_fetch_mails', 'gmail_get_message', 'gcal_list_events', 'gcal_create_event']);
    expect(tools.find((t) => t.name === 'gmail_fetch_mails')!.annotations).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
  });

  it('searches and reads mail with the user\'s own Gmail token', async () => {
    gm.reset();
    const found = await agent.callTool({ name: 'gmail_fetch_mails', arguments: { query: 'is:unread', max_results: 5 } });
    expect(found.isError).toBeFalsy();
    expect(found.structuredContent).toMatchObject({ messages: [{ id: '18f6a1c2b3d4e5f1', from: 'Alice Example <alice@example.com>', subject: 'Q2 report' }], next_page_token: null });
    const message = await agent.callTool({ name: 'gmail_get_message', arguments: { id: '18f6a1c2b3d4e5f1' } });
    expect(message.structuredContent).toMatchObject({ text: 'Hi,\r\nthe Q2 report is attached. Café ☕ at 10?\r\nAlice\r\n', attachments: [{ filename: 'q2-report.pdf' }] });

    expect(gm.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /gmail/v1/users/me/messages',
      'GET /gmail/v1/users/me/messages/18f6a1c2b3d4e5f1',
      'GET /gmail/v1/users/me/messages/18f6a1c2b3d4e5f1',
    ]);
    for (const r of gm.requests) {
      expect(r.headers.authorization).toBe(`Bearer ${ALICE_GMAIL}`);
      expect(JSON.stringify(r.headers)).not.toContain(sessionToken);
    }
    const missing = await agent.callTool({ name: 'gmail_get_message', arguments: { id: 'ffff0000ffff0000' } });
    expect(missing).toMatchObject({ isError: true, content: [{ type: 'text', text: 'Gmail answered HTTP 404: Requested entity was not found.' }] });
  });

  it('lists and creates calendar events with the user\'s own Calendar token', async () => {
    cal.reset();
    const listed = await agent.callTool({ name: 'gcal_list_events', arguments: { time_min: '2024-05-13T00:00:00Z', time_max: '2024-05-14T00:00:00Z' } });
    expect(listed.structuredContent).toMatchObject({ calendar_time_zone: 'Europe/Paris', events: [{ id: 'c0ffee0standup1', summary: 'Team standup' }], next_page_token: null });
    const created = await agent.callTool({
      name: 'gcal_create_event',
      arguments: { summary: 'Lunch', start: { date_time: '2024-05-15T12:00:00+02:00' }, end: { date_time: '2024-05-15T13:00:00+02:00' }, attendees: [{ email: 'bob@example.com' }] },
    });
    expect(created.isError).toBeFalsy();
    expect(created.structuredContent).toMatchObject({ summary: 'Lunch', attendees: [{ email: 'bob@example.com', response_status: 'needsAction' }] });
    expect(cal.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /calendar/v3/calendars/primary/events', 'POST /calendar/v3/calendars/primary/events']);
    expect(cal.requests[1]!.body).toEqual({ summary: 'Lunch', start: { dateTime: '2024-05-15T12:00:00+02:00' }, end: { dateTime: '2024-05-15T13:00:00+02:00' }, attendees: [{ email: 'bob@example.com' }] });
    for (const r of cal.requests) expect(r.headers.authorization).toBe(`Bearer ${ALICE_CAL}`);
  });

  it('refuses bad arguments and unmapped tools before Google sees anything', async () => {
    gm.reset();
    cal.reset();
    expect(await callError(agent, 'gcal_list_events', { time_min: 'tomorrow' })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await callError(agent, 'gmail_send_mail', { to: ['a@example.com'], subject: 'x', body: 'y' })).toMatchObject({ code: 'TOOL_NOT_FOUND' });
    expect(gm.requests).toHaveLength(0);
    expect(cal.requests).toHaveLength(0);
  });
});
