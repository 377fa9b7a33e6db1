import { type AuthType, type CallToolResult, type ConnectionTarget, type StaticAuth } from '@vmcp/contracts';
import { startFakeJira, type FakeJira } from '@vmcp/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CredentialRequest, ResolvedCredential } from '../connector.js';
import { NativeConnector } from '../native/native.connector.js';
import { ajv, errorText, structuredResult, vmcpError } from '../native/native-spec.fixture.js';
import { jira } from './jira.connector.js';
import { adfToText, textToAdf } from './jira.schemas.js';

const EMAIL = 'mia@example.com';
const API_TOKEN = 'ATATT_fixture_0001';
const BASIC = `Basic ${Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64')}`;
const OAUTH_TOKEN = 'jira_oauth_access_0001';
const REFRESHED = 'jira_oauth_access_0002';
const CLOUD_ID = '11223344-a1b2-3b33-c444-def123456789';
const MIA = { account_id: '5b10a2844c20165700ede21g', display_name: 'Mia Krystof' };
const EMMA = { account_id: '5b10ac8d82e05b22cc7d4ef5', display_name: 'Emma Richards' };
const SUMMARY_FIELDS = 'summary,status,issuetype,priority,assignee,reporter,project,labels,created,updated';

let site: FakeJira;
let gateway: FakeJira;

function setup(options: { authType?: AuthType; baseUrl?: string | null; tokens?: string[] } = {}) {
  const authType = options.authType ?? 'basic';
  const tokens = [...(options.tokens ?? [OAUTH_TOKEN])];
  const resolveCredential = vi.fn(async (r: CredentialRequest): Promise<ResolvedCredential> => {
    if (r.rejectedToken && tokens.length > 1 && tokens[0] === r.rejectedToken) tokens.shift();
    const secret: StaticAuth = authType === 'basic' ? { username: EMAIL, password: API_TOKEN } : { token: tokens[0]! };
    return { auth_type: authType, secret };
  });
  const connector = new NativeConnector(jira, { resolveCredential }, { retry: { baseDelayMs: 10, maxDelayMs: 20 } });
  const baseUrl = options.baseUrl === undefined ? site.url : options.baseUrl;
  const connection: ConnectionTarget = { id: 'conn_jira', name: 'jira', connector: 'jira', auth_type: authType, settings: baseUrl ? { base_url: baseUrl } : {} };
  const ctx = { tenantId: 'ten_1', connection, accountId: 'ca_mia', grant: 'grant.jwt' };
  const call = (name: string, args: Record<string, unknown>) => connector.callTool(ctx, name, args, { timeoutMs: 5000 });
  return { connector, resolveCredential, call };
}

const structured = (name: string, result: CallToolResult) => structuredResult(jira, name, result);

beforeAll(async () => {
  site = await startFakeJira();
  gateway = await startFakeJira({ prefix: `/ex/jira/${CLOUD_ID}`, tokens: [OAUTH_TOKEN] });
});
afterAll(async () => {
  await site.close();
  await gateway.close();
});
beforeEach(() => {
  site.reset();
  gateway.reset();
});

describe('jira connector: catalog', () => {
  it('lists its six tools with true annotations and Atlassian\'s OAuth endpoints', async () => {
    const { connector } = setup();
    const tools = await connector.listTools();
    expect(tools.map((t) => t.name)).toEqual(['jira_search_issues', 'jira_get_issue', 'jira_create_issue', 'jira_add_comment', 'jira_list_transitions', 'jira_transition_issue']);
    for (const t of tools) {
      expect(() => ajv.compile(t.inputSchema)).not.toThrow();
      expect(() => ajv.compile(t.outputSchema!)).not.toThrow();
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t.annotations]));
    expect(byName.jira_search_issues).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
    expect(byName.jira_add_comment).toEqual({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true });
    expect(byName.jira_transition_issue).toEqual({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true });
    expect(jira.info).toMatchObject({
      id: 'jira',
      name: 'Jira Cloud',
      auth_types: ['basic', 'bearer_token', 'oauth2'],
      oauth: {
        authorize_url: 'https://auth.atlassian.com/authorize?audience=api.atlassian.com&prompt=consent',
        token_url: 'https://auth.atlassian.com/oauth/token',
        scopes: ['read:jira-work', 'write:jira-work', 'offline_access'],
      },
    });
  });

  it('requires the site in settings.base_url, and the API gateway for OAuth tokens', () => {
    expect(jira.info.validateSettings({}, 'basic')).toMatch(/settings.base_url is required for connector jira/);
    expect(jira.info.validateSettings({ base_url: 'https://your-domain.atlassian.net' }, 'basic')).toBeUndefined();
    expect(jira.info.validateSettings({ base_url: 'https://your-domain.atlassian.net' }, 'oauth2')).toMatch(/only through https:\/\/api.atlassian.com\/ex\/jira\/\{cloudId\}/);
    expect(jira.info.validateSettings({ base_url: `https://api.atlassian.com/ex/jira/${CLOUD_ID}` }, 'oauth2')).toBeUndefined();
  });

  it('input schemas refuse what Jira would not take', () => {
    const get = ajv.compile(jira.tool('jira_get_issue')!.inputSchema);
    expect(get({ issue: 'ED-24' })).toBe(true);
    expect(get({ issue: '10002' })).toBe(true);
    expect(get({ issue: '../ED-1' })).toBe(false);
    expect(get({ issue: 'ED-0' })).toBe(false);
    const comment = ajv.compile(jira.tool('jira_add_comment')!.inputSchema);
    expect(comment({ issue: 'ED-2', body: '  \n ' })).toBe(false);
    const search = ajv.compile(jira.tool('jira_search_issues')!.inputSchema);
    expect(search({ jql: 'project = ED', max_results: 101 })).toBe(false);
  });

  it('writes plain text as a minimal ADF document and reads ADF back as text', () => {
    expect(textToAdf('First line\nsecond line\n\n  \nNext paragraph')).toEqual({
      type: 'doc',
      version: 1,
      content: [
        { type: 'paragraph', content: [{ type: 'text', text: 'First line' }, { type: 'hardBreak' }, { type: 'text', text: 'second line' }] },
        { type: 'paragraph', content: [{ type: 'text', text: 'Next paragraph' }] },
      ],
    });
    expect(adfToText(textToAdf('a\nb\n\nc'))).toBe('a\nb\n\nc');
    expect(
      adfToText({
        type: 'doc',
        version: 1,
        content: [
          { type: 'heading', attrs: { level: 2 }, content: [{ type: 'text', text: 'Plan' }] },
          { type: 'bulletList', content: [{ type: 'listItem', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'ask ' }, { type: 'mention', attrs: { id: '5b10', text: '@Mia' } }] }] }] },
          { type: 'orderedList', attrs: { order: 1 }, content: [{ type: 'listItem', content: [{ type: 'paragraph', content: [{ type: 'inlineCard', attrs: { url: 'https://example.com' } }] }] }] },
        ],
      }),
    ).toBe('Plan\n\n- ask @Mia\n\n1. https://example.com');
  });
});

describe('jira connector: requests and results', () => {
  it('jira_search_issues sends the enhanced JQL search and pages with nextPageToken', async () => {
    const { call } = setup();
    const first = structured('jira_search_issues', await call('jira_search_issues', { jql: 'project = ED ORDER BY key ASC', max_results: 2 }));
    expect(site.requests).toHaveLength(1);
    const [req] = site.requests;
    expect(req).toMatchObject({ method: 'GET', path: '/rest/api/3/search/jql', query: { jql: 'project = ED ORDER BY key ASC', fields: SUMMARY_FIELDS, maxResults: '2' }, body: undefined });
    expect(req!.headers).toMatchObject({ accept: 'application/json', authorization: BASIC });
    expect(first).toEqual({
      issues: [
        { id: '10001', key: 'ED-1', summary: 'Set up the build pipeline', status: 'Done', status_category: 'done', issue_type: 'Task', priority: 'Medium', assignee: MIA, reporter: MIA, project: 'ED', labels: ['ci'], created: '2024-01-10T09:00:00.000+0000', updated: '2024-01-12T17:30:00.000+0000' },
        { id: '10002', key: 'ED-2', summary: 'Login page throws an error', status: 'To Do', status_category: 'new', issue_type: 'Bug', priority: 'High', assignee: MIA, reporter: EMMA, project: 'ED', labels: ['frontend', 'login'], created: '2024-01-15T10:22:31.123+0000', updated: '2024-01-15T11:00:00.000+0000' },
      ],
      next_page_token: expect.any(String),
    });

    const token = first.next_page_token as string;
    const last = structured('jira_search_issues', await call('jira_search_issues', { jql: 'project = ED ORDER BY key ASC', max_results: 2, next_page_token: token }));
    expect(site.requests[1]!.query).toEqual({ jql: 'project = ED ORDER BY key ASC', fields: SUMMARY_FIELDS, maxResults: '2', nextPageToken: token });
    expect(last).toEqual({
      issues: [{ id: '10003', key: 'ED-3', summary: 'Dark mode', status: 'In Progress', status_category: 'indeterminate', issue_type: 'Story', priority: 'Low', assignee: null, reporter: EMMA, project: 'ED', labels: [], created: '2024-01-16T08:00:00.000+0000', updated: '2024-01-17T08:00:00.000+0000' }],
      next_page_token: null,
    });
  });

  it('jira_get_issue asks for the detail fields and reads description and comments as text', async () => {
    const { call } = setup();
    const issue = structured('jira_get_issue', await call('jira_get_issue', { issue: 'ED-2' }));
    expect(site.requests[0]).toMatchObject({ method: 'GET', path: '/rest/api/3/issue/ED-2', query: { fields: `${SUMMARY_FIELDS},description,resolution,duedate,parent,comment` } });
    expect(issue).toEqual({
      id: '10002',
      key: 'ED-2',
      summary: 'Login page throws an error',
      status: 'To Do',
      status_category: 'new',
      issue_type: 'Bug',
      priority: 'High',
      assignee: MIA,
      reporter: EMMA,
      project: 'ED',
      labels: ['frontend', 'login'],
      created: '2024-01-15T10:22:31.123+0000',
      updated: '2024-01-15T11:00:00.000+0000',
      description: 'Steps: open /login and submit the form.\n\nExpected: signed in. Actual: HTTP 500.',
      resolution: null,
      due_date: '2024-02-01',
      parent: null,
      comments: [{ id: '10000', author: 'Emma Richards', body: 'Seen on Firefox too.', created: '2024-01-15T11:00:00.000+0000', updated: '2024-01-15T11:00:00.000+0000' }],
      comment_total: 1,
    });
  });

  it('jira_create_issue posts the fields with an ADF description and returns the new key', async () => {
    const { call } = setup();
    const created = structured(
      'jira_create_issue',
      await call('jira_create_issue', { project_key: 'ED', issue_type: 'Bug', summary: 'Logout fails', description: 'Click logout.\nNothing happens.', labels: ['login'], priority: 'High', assignee_account_id: MIA.account_id }),
    );
    const [req] = site.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/rest/api/3/issue', query: {} });
    expect(req!.headers).toMatchObject({ accept: 'application/json', 'content-type': 'application/json', authorization: BASIC });
    expect(JSON.parse(req!.rawBody)).toEqual({
      fields: {
        project: { key: 'ED' },
        issuetype: { name: 'Bug' },
        summary: 'Logout fails',
        description: { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'Click logout.' }, { type: 'hardBreak' }, { type: 'text', text: 'Nothing happens.' }] }] },
        labels: ['login'],
        priority: { name: 'High' },
        assignee: { accountId: MIA.account_id },
      },
    });
    expect(created).toEqual({ id: '10004', key: 'ED-4', self: `${site.url}/rest/api/3/issue/10004` });
    expect(site.issues.get('ED-4')).toMatchObject({ summary: 'Logout fails', status: 'To Do', assignee: MIA.account_id });
  });

  it('jira_add_comment posts an ADF body', async () => {
    const { call } = setup();
    const comment = structured('jira_add_comment', await call('jira_add_comment', { issue: 'ED-2', body: 'Fixed in build 42.' }));
    expect(site.requests[0]).toMatchObject({
      method: 'POST',
      path: '/rest/api/3/issue/ED-2/comment',
      body: { body: { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'Fixed in build 42.' }] }] } },
    });
    expect(comment).toEqual({ id: '10001', author: 'Mia Krystof', body: 'Fixed in build 42.', created: expect.any(String), updated: expect.any(String) });
  });

  it('jira_list_transitions, then jira_transition_issue with a comment (Jira answers 204)', async () => {
    const { call } = setup();
    const list = structured('jira_list_transitions', await call('jira_list_transitions', { issue: 'ED-2' }));
    expect(site.requests[0]).toMatchObject({ method: 'GET', path: '/rest/api/3/issue/ED-2/transitions', query: {} });
    expect(list).toEqual({
      transitions: [
        { id: '21', name: 'In Progress', to_status: 'In Progress', to_status_category: 'indeterminate', has_screen: false },
        { id: '31', name: 'Done', to_status: 'Done', to_status_category: 'done', has_screen: false },
      ],
    });
    const done = structured('jira_transition_issue', await call('jira_transition_issue', { issue: 'ED-2', transition_id: '31', comment: 'Shipped.' }));
    expect(site.requests[1]).toMatchObject({ method: 'POST', path: '/rest/api/3/issue/ED-2/transitions' });
    expect(JSON.parse(site.requests[1]!.rawBody)).toEqual({
      transition: { id: '31' },
      update: { comment: [{ add: { body: { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'Shipped.' }] }] } } }] },
    });
    expect(done).toEqual({ issue: 'ED-2', transition_id: '31', transitioned: true });
    expect(site.issues.get('ED-2')).toMatchObject({ status: 'Done' });
  });

  it('an OAuth 2.0 connection goes through api.atlassian.com/ex/jira/{cloudId} with a bearer token', async () => {
    const { call } = setup({ authType: 'oauth2', baseUrl: gateway.url });
    structured('jira_get_issue', await call('jira_get_issue', { issue: '10003' }));
    expect(gateway.requests[0]).toMatchObject({ method: 'GET', path: `/ex/jira/${CLOUD_ID}/rest/api/3/issue/10003` });
    expect(gateway.requests[0]!.headers.authorization).toBe(`Bearer ${OAUTH_TOKEN}`);
    expect(site.requests).toHaveLength(0);
  });
});

describe('jira connector: failures', () => {
  it('Jira\'s errorMessages and field errors become tool errors', async () => {
    const { call } = setup();
    expect(errorText(await call('jira_get_issue', { issue: 'ED-999' }))).toBe('Jira answered HTTP 404: Issue does not exist or you do not have permission to see it.');
    expect(errorText(await call('jira_create_issue', { project_key: 'ED', issue_type: 'Epic', summary: 'x', priority: 'Urgent' }))).toBe(
      "Jira answered HTTP 400: issuetype: The issue type selected is invalid.; priority: Priority name 'Urgent' is not valid",
    );
    expect(errorText(await call('jira_search_issues', { jql: 'ORDER BY created DESC' }))).toBe(
      'Jira answered HTTP 400: Unbounded JQL queries are not allowed here. Please add a search restriction to your query.',
    );
    expect(errorText(await call('jira_transition_issue', { issue: 'ED-1', transition_id: '31' }))).toBe("Jira answered HTTP 400: Transition id '31' is not valid for this issue.");
  });

  it('an OAuth token refused with 401 is refreshed once through the vault, and the call goes through', async () => {
    gateway.tokens.add(REFRESHED);
    gateway.tokens.delete(OAUTH_TOKEN);
    try {
      const { call, resolveCredential } = setup({ authType: 'oauth2', baseUrl: gateway.url, tokens: [OAUTH_TOKEN, REFRESHED] });
      const created = structured('jira_create_issue', await call('jira_create_issue', { project_key: 'ED', issue_type: 'Task', summary: 'After refresh' }));
      expect(created.key).toBe('ED-4');
      expect(resolveCredential.mock.calls.map(([r]) => r)).toEqual([
        { tenantId: 'ten_1', accountId: 'ca_mia', grant: 'grant.jwt' },
        { tenantId: 'ten_1', accountId: 'ca_mia', grant: 'grant.jwt', rejectedToken: OAUTH_TOKEN },
      ]);
      expect(gateway.tokensSeen()).toEqual([OAUTH_TOKEN, REFRESHED]);
      expect(gateway.issues.size).toBe(4);
    } finally {
      gateway.tokens.add(OAUTH_TOKEN);
      gateway.tokens.delete(REFRESHED);
    }
  });

  it('a refused API token is not refreshed: the user must store a valid one', async () => {
    site.basic.delete(`${EMAIL}:${API_TOKEN}`);
    try {
      const { call, resolveCredential } = setup();
      const err = await vmcpError(call('jira_get_issue', { issue: 'ED-1' }));
      expect(err).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE', message: expect.stringMatching(/refused the connected account's credential/) });
      expect(err.message).not.toContain(API_TOKEN);
      expect(resolveCredential).toHaveBeenCalledTimes(1);
      expect(site.requests).toHaveLength(1);
    } finally {
      site.basic.add(`${EMAIL}:${API_TOKEN}`);
    }
  });

  it('a 429 with Retry-After is waited out for a search, never retried for a create', async () => {
    const { call } = setup();
    site.override({ path: '/rest/api/3/search/jql' }, { status: 429, headers: { 'retry-after': '1', 'ratelimit-reason': 'jira-burst-based' }, body: { errorMessages: ['Rate limit exceeded.'], errors: {} } });
    const started = Date.now();
    const found = structured('jira_search_issues', await call('jira_search_issues', { jql: 'assignee = currentUser()' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(site.requests).toHaveLength(2);
    expect((found.issues as Array<{ key: string }>).map((i) => i.key)).toEqual(['ED-1', 'ED-2']);

    site.reset();
    site.override({ method: 'POST' }, { status: 429, headers: { 'retry-after': '1' }, body: { errorMessages: ['Rate limit exceeded.'], errors: {} } });
    expect(errorText(await call('jira_create_issue', { project_key: 'ED', issue_type: 'Task', summary: 'x' }))).toBe('Jira answered HTTP 429: Rate limit exceeded. (retry after 1 s)');
    expect(site.requests).toHaveLength(1);
    expect(site.issues.has('ED-4')).toBe(false);
  });

  it('a 429 without Retry-After waits until X-RateLimit-Reset', async () => {
    const { call } = setup();
    site.override({ path: '/rest/api/3/issue/ED-1' }, () => ({ status: 429, headers: { 'x-ratelimit-reset': new Date(Date.now() + 600).toISOString() }, body: { errorMessages: ['Rate limit exceeded.'], errors: {} } }));
    const started = Date.now();
    expect(structured('jira_get_issue', await call('jira_get_issue', { issue: 'ED-1' })).key).toBe('ED-1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(site.requests).toHaveLength(2);
  });

  it('a connection without a site fails before any request', async () => {
    const { call, resolveCredential } = setup({ baseUrl: null });
    expect(await vmcpError(call('jira_get_issue', { issue: 'ED-1' }))).toMatchObject({ code: 'FAILED_PRECONDITION', message: 'connection "jira" needs settings.base_url' });
    expect(resolveCredential).not.toHaveBeenCalled();
  });
});
