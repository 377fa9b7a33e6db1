import type { AuthType, CallToolResult, ConnectionTarget } from '@vmcp/contracts';
import { NOTION_PROJECTS_PAGE_ID, NOTION_TASKS_DATABASE_ID, startFakeNotion, type FakeNotion } from '@vmcp/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CredentialRequest, ResolvedCredential } from '../connector.js';
import { NativeConnector } from '../native/native.connector.js';
import { ajv, errorText, structuredResult, vmcpError } from '../native/native-spec.fixture.js';
import { notion } from './notion.connector.js';

const TOKEN = 'ntn_fixture_token_0001';
const REFRESHED = 'ntn_refreshed_token_0002';
const LAUNCH_PLAN = 'b55c9c91-384d-452b-81db-d1ef79372b75';

let fake: FakeNotion;

function setup(options: { authType?: AuthType; tokens?: string[] } = {}) {
  const tokens = [...(options.tokens ?? [TOKEN])];
  const authType = options.authType ?? 'bearer_token';
  const resolveCredential = vi.fn(async (r: CredentialRequest): Promise<ResolvedCredential> => {
    if (r.rejectedToken && tokens.length > 1 && tokens[0] === r.rejectedToken) tokens.shift();
    return { auth_type: authType, secret: { token: tokens[0]! } };
  });
  const connector = new NativeConnector(notion, { resolveCredential }, { retry: { baseDelayMs: 10, maxDelayMs: 20 } });
  const connection: ConnectionTarget = { id: 'conn_notion', name: 'notion', connector: 'notion', auth_type: authType, settings: { base_url: fake.url } };
  const ctx = { tenantId: 'ten_1', connection, accountId: 'ca_alice', grant: 'grant.jwt' };
  const call = (name: string, args: Record<string, unknown>) => connector.callTool(ctx, name, args, { timeoutMs: 5000 });
  return { connector, resolveCredential, call };
}

const structured = (name: string, result: CallToolResult) => structuredResult(notion, name, result);

const HEADERS = { authorization: `Bearer ${TOKEN}`, 'notion-version': '2022-06-28', accept: 'application/json' };

const LAUNCH_PLAN_PAGE = {
  id: LAUNCH_PLAN,
  url: 'https://www.notion.so/Write-launch-plan-b55c9c91384d452b81dbd1ef79372b75',
  title: 'Write launch plan',
  parent: { type: 'database_id', id: NOTION_TASKS_DATABASE_ID },
  archived: false,
  created_time: '2024-05-01T09:00:00.000Z',
  last_edited_time: '2024-05-03T10:00:00.000Z',
  properties: {
    Name: { type: 'title', value: 'Write launch plan' },
    Status: { type: 'status', value: 'In progress' },
    Priority: { type: 'select', value: 'High' },
    Done: { type: 'checkbox', value: false },
    Due: { type: 'date', value: { start: '2024-06-01', end: null } },
    Tags: { type: 'multi_select', value: ['planning'] },
    Estimate: { type: 'number', value: null },
  },
};

beforeAll(async () => {
  fake = await startFakeNotion();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe('notion connector: catalog', () => {
  it('lists its four tools with valid 2020-12 schemas, true annotations and Notion\'s OAuth endpoints', async () => {
    const { connector } = setup();
    const tools = await connector.listTools();
    expect(tools.map((t) => t.name)).toEqual(['notion_search', 'notion_get_page', 'notion_create_page', 'notion_query_database']);
    for (const t of tools) {
      expect(() => ajv.compile(t.inputSchema)).not.toThrow();
      expect(() => ajv.compile(t.outputSchema!)).not.toThrow();
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t.annotations]));
    expect(byName.notion_create_page).toEqual({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true });
    // POST endpoints that only read: safe to retry.
    expect(byName.notion_search).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
    expect(byName.notion_query_database).toEqual(byName.notion_search);
    expect(notion.info).toMatchObject({
      id: 'notion',
      auth_types: ['oauth2', 'bearer_token'],
      oauth: { authorize_url: 'https://api.notion.com/v1/oauth/authorize?owner=user', token_url: 'https://api.notion.com/v1/oauth/token', scopes: [] },
    });
  });

  it('input schemas refuse what Notion would not take', () => {
    const create = ajv.compile(notion.tool('notion_create_page')!.inputSchema);
    expect(create({ parent: { page_id: NOTION_PROJECTS_PAGE_ID }, title: 'x' })).toBe(true);
    expect(create({ parent: { database_id: NOTION_TASKS_DATABASE_ID.replace(/-/g, '') }, properties: { Done: { checkbox: true } } })).toBe(true);
    expect(create({ parent: { page_id: NOTION_PROJECTS_PAGE_ID, database_id: NOTION_TASKS_DATABASE_ID }, title: 'x' })).toBe(false);
    expect(create({ parent: { workspace: true }, title: 'x' })).toBe(false);
    expect(create({ parent: { page_id: '../users' }, title: 'x' })).toBe(false);
    const query = ajv.compile(notion.tool('notion_query_database')!.inputSchema);
    expect(query({ database_id: NOTION_TASKS_DATABASE_ID, sorts: [{ property: 'Due', direction: 'ascending' }, { timestamp: 'created_time', direction: 'descending' }] })).toBe(true);
    expect(query({ database_id: NOTION_TASKS_DATABASE_ID, sorts: [{ property: 'Due', direction: 'up' }] })).toBe(false);
    expect(query({ database_id: NOTION_TASKS_DATABASE_ID, page_size: 101 })).toBe(false);
  });
});

describe('notion connector: requests and results', () => {
  it('notion_search posts query, filter, sort and page_size, and pages with start_cursor', async () => {
    const { call } = setup();
    const first = structured('notion_search', await call('notion_search', { filter: 'page', sort: 'descending', page_size: 2 }));
    const [req] = fake.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/v1/search', query: {} });
    expect(req!.headers).toMatchObject({ ...HEADERS, 'content-type': 'application/json' });
    expect(JSON.parse(req!.rawBody)).toEqual({ filter: { value: 'page', property: 'object' }, sort: { direction: 'descending', timestamp: 'last_edited_time' }, page_size: 2 });
    expect(first).toEqual({
      results: [
        {
          object: 'page',
          id: '7f1b3c5e-2d4a-4b6c-8e9f-0a1b2c3d4e5f',
          url: 'https://www.notion.so/Meeting-notes-7f1b3c5e2d4a4b6c8e9f0a1b2c3d4e5f',
          title: 'Meeting notes',
          parent: { type: 'page_id', id: NOTION_PROJECTS_PAGE_ID },
          archived: false,
          created_time: '2024-05-05T09:00:00.000Z',
          last_edited_time: '2024-05-05T09:30:00.000Z',
        },
        expect.objectContaining({ object: 'page', id: 'a1d8501e-1ac1-43e9-a6bd-ea9fe6c8822b', title: 'Fix login bug', parent: { type: 'database_id', id: NOTION_TASKS_DATABASE_ID } }),
      ],
      next_cursor: LAUNCH_PLAN,
      has_more: true,
    });

    const next = structured('notion_search', await call('notion_search', { filter: 'page', sort: 'descending', page_size: 2, start_cursor: first.next_cursor }));
    expect(JSON.parse(fake.requests[1]!.rawBody)).toMatchObject({ start_cursor: LAUNCH_PLAN, page_size: 2 });
    expect((next.results as Array<{ id: string }>).map((r) => r.id)).toEqual([LAUNCH_PLAN, 'c2c3e8f0-4a57-4f44-9c56-7b0d1b7a0d11']);
    expect(next).toMatchObject({ has_more: true });

    const db = structured('notion_search', await call('notion_search', { query: 'task', filter: 'database' }));
    expect(JSON.parse(fake.requests[2]!.rawBody)).toEqual({ query: 'task', filter: { value: 'database', property: 'object' } });
    expect(db).toEqual({
      results: [
        {
          object: 'database',
          id: NOTION_TASKS_DATABASE_ID,
          url: 'https://www.notion.so/d9824bdc84454327be8b5b47500af6ce',
          title: 'Tasks',
          parent: { type: 'page_id', id: NOTION_PROJECTS_PAGE_ID },
          archived: false,
          created_time: '2024-04-30T08:10:00.000Z',
          last_edited_time: '2024-05-01T08:00:00.000Z',
        },
      ],
      next_cursor: null,
      has_more: false,
    });
  });

  it('notion_get_page gets the page with every property as {type, value}', async () => {
    const { call } = setup();
    const page = structured('notion_get_page', await call('notion_get_page', { page_id: LAUNCH_PLAN.replace(/-/g, '') }));
    const [req] = fake.requests;
    expect(req).toMatchObject({ method: 'GET', path: '/v1/pages/b55c9c91384d452b81dbd1ef79372b75', query: {}, body: undefined });
    expect(req!.headers).toMatchObject(HEADERS);
    expect(page).toEqual(LAUNCH_PLAN_PAGE);
  });

  it('notion_create_page under a page: the title and content become properties.title and paragraph blocks', async () => {
    const { call } = setup();
    const created = structured(
      'notion_create_page',
      await call('notion_create_page', { parent: { page_id: NOTION_PROJECTS_PAGE_ID }, title: 'Retro 2024-06', content: 'What went well:\nshipping.\n\nWhat to change: fewer meetings.' }),
    );
    const [req] = fake.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/v1/pages' });
    expect(req!.headers).toMatchObject({ ...HEADERS, 'content-type': 'application/json' });
    expect(JSON.parse(req!.rawBody)).toEqual({
      parent: { page_id: NOTION_PROJECTS_PAGE_ID },
      properties: { title: { title: [{ type: 'text', text: { content: 'Retro 2024-06' } }] } },
      children: [
        { object: 'block', type: 'paragraph', paragraph: { rich_text: [{ type: 'text', text: { content: 'What went well:\nshipping.' } }] } },
        { object: 'block', type: 'paragraph', paragraph: { rich_text: [{ type: 'text', text: { content: 'What to change: fewer meetings.' } }] } },
      ],
    });
    expect(created).toMatchObject({ title: 'Retro 2024-06', parent: { type: 'page_id', id: NOTION_PROJECTS_PAGE_ID }, properties: { title: { type: 'title', value: 'Retro 2024-06' } } });
    expect(fake.pages.get(created.id as string)!.children).toHaveLength(2);
  });

  it('notion_create_page in a database sets the columns given in Notion\'s format', async () => {
    const { call } = setup();
    const properties = { Status: { status: { name: 'Not started' } }, Tags: { multi_select: [{ name: 'ops' }] }, Due: { date: { start: '2024-07-01' } }, Estimate: { number: 3 } };
    const created = structured('notion_create_page', await call('notion_create_page', { parent: { database_id: NOTION_TASKS_DATABASE_ID }, title: 'Rotate keys', properties }));
    expect(JSON.parse(fake.requests[0]!.rawBody)).toEqual({
      parent: { database_id: NOTION_TASKS_DATABASE_ID },
      properties: { ...properties, title: { title: [{ type: 'text', text: { content: 'Rotate keys' } }] } },
    });
    expect(created.properties).toEqual({
      Name: { type: 'title', value: 'Rotate keys' },
      Status: { type: 'status', value: 'Not started' },
      Priority: { type: 'select', value: null },
      Done: { type: 'checkbox', value: false },
      Due: { type: 'date', value: { start: '2024-07-01', end: null } },
      Tags: { type: 'multi_select', value: ['ops'] },
      Estimate: { type: 'number', value: 3 },
    });
  });

  it('notion_query_database posts filter, sorts and page_size to the database and pages with start_cursor', async () => {
    const { call } = setup();
    const args = { database_id: NOTION_TASKS_DATABASE_ID, filter: { property: 'Done', checkbox: { equals: false } }, sorts: [{ property: 'Name', direction: 'ascending' }], page_size: 1 };
    const first = structured('notion_query_database', await call('notion_query_database', args));
    const [req] = fake.requests;
    expect(req).toMatchObject({ method: 'POST', path: `/v1/databases/${NOTION_TASKS_DATABASE_ID}/query`, query: {} });
    expect(req!.headers).toMatchObject(HEADERS);
    expect(JSON.parse(req!.rawBody)).toEqual({ filter: { property: 'Done', checkbox: { equals: false } }, sorts: [{ property: 'Name', direction: 'ascending' }], page_size: 1 });
    expect(first).toEqual({
      pages: [expect.objectContaining({ title: 'Update docs', properties: expect.objectContaining({ Done: { type: 'checkbox', value: false }, Due: { type: 'date', value: null } }) })],
      next_cursor: LAUNCH_PLAN,
      has_more: true,
    });
    const second = structured('notion_query_database', await call('notion_query_database', { ...args, start_cursor: first.next_cursor }));
    expect(JSON.parse(fake.requests[1]!.rawBody)).toMatchObject({ start_cursor: LAUNCH_PLAN });
    expect(second).toEqual({ pages: [LAUNCH_PLAN_PAGE], next_cursor: null, has_more: false });
  });
});

describe('notion connector: failures', () => {
  it('Notion\'s error bodies become tool errors with the code and message', async () => {
    const { call } = setup();
    expect(errorText(await call('notion_get_page', { page_id: '00000000-0000-4000-8000-000000000000' }))).toBe(
      'Notion answered HTTP 404: object_not_found: Could not find page with ID: 00000000-0000-4000-8000-000000000000. Make sure the relevant pages and databases are shared with your integration.',
    );
    expect(errorText(await call('notion_create_page', { parent: { database_id: NOTION_TASKS_DATABASE_ID }, properties: { Owner: { people: [] } } }))).toBe(
      'Notion answered HTTP 400: validation_error: Owner is not a property that exists.',
    );
    expect(errorText(await call('notion_query_database', { database_id: NOTION_TASKS_DATABASE_ID, filter: { property: 'Status', select: { equals: 'Done' } } }))).toBe(
      'Notion answered HTTP 400: validation_error: body failed validation: body.filter.status should be defined, instead was `undefined`.',
    );
  });

  it('refuses a title given twice, or more than 100 blocks, before calling Notion', async () => {
    const { call } = setup();
    expect(errorText(await call('notion_create_page', { parent: { page_id: NOTION_PROJECTS_PAGE_ID }, title: 'a', properties: { title: { title: [] } } }))).toBe(
      'give the title either as title or as properties.title, not both',
    );
    const children = Array.from({ length: 100 }, () => ({ type: 'divider', divider: {} }));
    expect(errorText(await call('notion_create_page', { parent: { page_id: NOTION_PROJECTS_PAGE_ID }, content: 'one more', children }))).toBe(
      'Notion takes at most 100 blocks per page creation; content and children make 101',
    );
    expect(fake.requests).toHaveLength(0);
  });

  it('a 401 refreshes the OAuth token once through the vault, and the call goes through', async () => {
    fake.tokens.add(REFRESHED);
    fake.tokens.delete(TOKEN);
    try {
      const { call, resolveCredential } = setup({ authType: 'oauth2', tokens: [TOKEN, REFRESHED] });
      expect(structured('notion_get_page', await call('notion_get_page', { page_id: LAUNCH_PLAN })).title).toBe('Write launch plan');
      expect(resolveCredential.mock.calls.map(([r]) => r)).toEqual([
        { tenantId: 'ten_1', accountId: 'ca_alice', grant: 'grant.jwt' },
        { tenantId: 'ten_1', accountId: 'ca_alice', grant: 'grant.jwt', rejectedToken: TOKEN },
      ]);
      expect(fake.tokensSeen()).toEqual([TOKEN, REFRESHED]);
    } finally {
      fake.tokens.add(TOKEN);
      fake.tokens.delete(REFRESHED);
    }
  });

  it('a refused integration secret is ACCOUNT_NOT_ACTIVE without a second try', async () => {
    const { call, resolveCredential } = setup({ tokens: ['ntn_wrong_secret'] });
    const err = await vmcpError(call('notion_search', {}));
    expect(err).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE' });
    expect(err.message).not.toContain('ntn_wrong_secret');
    expect(resolveCredential).toHaveBeenCalledTimes(1);
    expect(fake.requests).toHaveLength(1);
  });

  it('a 429 with Retry-After is waited out for a query (a read over POST), never retried for a page creation', async () => {
    const { call } = setup();
    const limited = { status: 429, headers: { 'retry-after': '1' }, body: { object: 'error', status: 429, code: 'rate_limited', message: 'You have been rate limited. Please try again in a few minutes.' } };
    fake.override({ path: `/v1/databases/${NOTION_TASKS_DATABASE_ID}/query` }, limited);
    const started = Date.now();
    expect(structured('notion_query_database', await call('notion_query_database', { database_id: NOTION_TASKS_DATABASE_ID })).pages).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(fake.requests).toHaveLength(2);

    fake.reset();
    fake.override({ path: '/v1/pages', method: 'POST' }, limited);
    expect(errorText(await call('notion_create_page', { parent: { page_id: NOTION_PROJECTS_PAGE_ID }, title: 'x' }))).toBe(
      'Notion answered HTTP 429: rate_limited: You have been rate limited. Please try again in a few minutes. (retry after 1 s)',
    );
    expect(fake.requests).toHaveLength(1);
    expect([...fake.pages.values()].some((p) => JSON.stringify(p.properties).includes('"x"'))).toBe(false);
  });
});
