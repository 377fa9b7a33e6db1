import type { AuthType, CallToolResult, ConnectionTarget } from '@vmcp/contracts';
import { startFakeGitHub, type FakeGitHub } from '@vmcp/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CredentialRequest, ResolvedCredential } from '../connector.js';
import { NativeConnector } from '../native/native.connector.js';
import { ajv, errorText, structuredResult, vmcpError } from '../native/native-spec.fixture.js';
import { github } from './github.connector.js';

const TOKEN = 'ghp_fixture_token_0001';
const REFRESHED = 'gho_refreshed_token_0002';

let gh: FakeGitHub;
let ghe: FakeGitHub;

function connection(authType: AuthType = 'bearer_token', baseUrl?: string): ConnectionTarget {
  return { id: 'conn_gh', name: 'gh', connector: 'github', auth_type: authType, settings: { base_url: baseUrl ?? gh.url } };
}

function setup(options: { authType?: AuthType; baseUrl?: string; tokens?: string[]; timeoutMs?: number } = {}) {
  const tokens = [...(options.tokens ?? [TOKEN])];
  const authType = options.authType ?? 'bearer_token';
  const resolveCredential = vi.fn(async (r: CredentialRequest): Promise<ResolvedCredential> => {
    // The vault hands out the next token when told which one was refused.
    if (r.rejectedToken && tokens.length > 1 && tokens[0] === r.rejectedToken) tokens.shift();
    return { auth_type: authType, secret: { token: tokens[0]! } };
  });
  const onCredentialRefused = vi.fn();
  const connector = new NativeConnector(github, { resolveCredential, onCredentialRefused }, { retry: { baseDelayMs: 10, maxDelayMs: 20 }, maxResponseBytes: 64 * 1024 });
  const ctx = { tenantId: 'ten_1', connection: connection(authType, options.baseUrl), accountId: 'ca_alice', grant: 'grant.jwt' };
  const call = (name: string, args: Record<string, unknown>, extra: { timeoutMs?: number; signal?: AbortSignal } = {}) =>
    connector.callTool(ctx, name, args, { timeoutMs: extra.timeoutMs ?? options.timeoutMs ?? 5000, ...(extra.signal ? { signal: extra.signal } : {}) });
  return { connector, resolveCredential, onCredentialRefused, call, ctx };
}

const structured = (name: string, result: CallToolResult) => structuredResult(github, name, result);

const GITHUB_HEADERS = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'vmcp', authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  gh = await startFakeGitHub();
  ghe = await startFakeGitHub({ prefix: '/api/v3' });
});
afterAll(async () => {
  await gh.close();
  await ghe.close();
});
beforeEach(() => {
  gh.reset();
  ghe.reset();
});

describe('github connector: catalog', () => {
  it('lists its eight tools without any credential, with valid 2020-12 schemas and stated annotations', async () => {
    const { connector, resolveCredential } = setup();
    const tools = await connector.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      'github_list_issues',
      'github_get_issue',
      'github_create_issue',
      'github_create_issue_comment',
      'github_list_pull_requests',
      'github_get_pull_request',
      'github_get_repo',
      'github_search_issues',
    ]);
    expect(resolveCredential).not.toHaveBeenCalled();
    for (const t of tools) {
      expect(() => ajv.compile(t.inputSchema)).not.toThrow();
      expect(() => ajv.compile(t.outputSchema!)).not.toThrow();
      expect(t.inputSchema).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', additionalProperties: false });
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t.annotations]));
    expect(byName.github_get_issue).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
    expect(byName.github_create_issue).toEqual({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true });
    expect(github.info).toMatchObject({
      id: 'github',
      auth_types: ['oauth2', 'bearer_token'],
      dynamic_tools: false,
      oauth: { authorize_url: 'https://github.com/login/oauth/authorize', token_url: 'https://github.com/login/oauth/access_token', scopes: ['repo'] },
    });
  });

  it('input schemas refuse what GitHub would not take', () => {
    const validate = ajv.compile(github.tool('github_list_issues')!.inputSchema);
    expect(validate({ owner: 'octocat', repo: 'Hello-World', state: 'all', labels: ['bug'], per_page: 100, page: 2, since: '2024-01-31T00:00:00Z' })).toBe(true);
    expect(validate({ owner: '../etc', repo: 'x' })).toBe(false);
    expect(validate({ owner: 'octocat', repo: '..' })).toBe(false);
    expect(validate({ owner: 'octocat', repo: 'x', per_page: 101 })).toBe(false);
    expect(validate({ owner: 'octocat', repo: 'x', labels: ['a,b'] })).toBe(false);
    expect(validate({ owner: 'octocat', repo: 'x', since: 'yesterday' })).toBe(false);
    expect(validate({ owner: 'octocat', repo: 'x', extra: 1 })).toBe(false);
  });

  it('checks connection settings', () => {
    expect(github.info.validateSettings({}, 'bearer_token')).toBeUndefined();
    expect(github.info.validateSettings({ base_url: 'https://ghe.example.com/api/v3' }, 'oauth2')).toBeUndefined();
    expect(github.info.validateSettings({ url: 'https://x.test/mcp' }, 'bearer_token')).toMatch(/settings.url is for the mcp connector/);
    expect(github.info.validateSettings({ base_url: 'https://u:secret@ghe.example.com' }, 'bearer_token')).toMatch(/must not contain credentials/);
  });
});

describe('github connector: requests and results', () => {
  it('github_list_issues sends the documented request and maps one page, with next_page from the Link header', async () => {
    const { call } = setup();
    const result = await call('github_list_issues', { owner: 'octocat', repo: 'Hello-World', state: 'all', labels: ['bug'], per_page: 1 });
    expect(gh.requests).toHaveLength(1);
    const [req] = gh.requests;
    expect(req).toMatchObject({ method: 'GET', path: '/repos/octocat/Hello-World/issues', query: { state: 'all', labels: 'bug', per_page: '1' }, body: undefined });
    expect(req!.headers).toMatchObject(GITHUB_HEADERS);
    expect(structured('github_list_issues', result)).toEqual({
      issues: [
        {
          number: 1350,
          title: 'Crash on start',
          state: 'closed',
          user: 'monalisa',
          labels: ['bug'],
          assignees: ['hubot'],
          comments: 0,
          is_pull_request: false,
          html_url: 'https://github.com/octocat/Hello-World/issues/1350',
          created_at: '2011-04-26T08:00:00Z',
          updated_at: '2011-04-28T08:00:00Z',
          closed_at: '2011-04-28T08:00:00Z',
        },
      ],
      next_page: 2,
    });

    const last = structured('github_list_issues', await call('github_list_issues', { owner: 'octocat', repo: 'Hello-World', state: 'all', labels: ['bug'], per_page: 1, page: 2 }));
    expect(gh.requests[1]!.query).toEqual({ state: 'all', labels: 'bug', per_page: '1', page: '2' });
    expect(last).toMatchObject({ issues: [{ number: 1347, is_pull_request: false }], next_page: null });
  });

  it('github_get_issue returns the issue with its body', async () => {
    const { call } = setup();
    const issue = structured('github_get_issue', await call('github_get_issue', { owner: 'octocat', repo: 'Hello-World', issue_number: 1347 }));
    expect(gh.requests[0]).toMatchObject({ method: 'GET', path: '/repos/octocat/Hello-World/issues/1347', query: {} });
    expect(issue).toEqual({
      number: 1347,
      title: 'Found a bug',
      state: 'open',
      user: 'octocat',
      labels: ['bug'],
      assignees: ['octocat'],
      comments: 0,
      is_pull_request: false,
      html_url: 'https://github.com/octocat/Hello-World/issues/1347',
      created_at: '2011-04-22T13:33:48Z',
      updated_at: '2011-04-22T13:33:48Z',
      closed_at: null,
      state_reason: null,
      body: "I'm having a problem with this.",
      milestone: 'v1.0',
      locked: false,
    });
  });

  it('github_create_issue posts exactly the given fields and returns the new issue', async () => {
    const { call } = setup();
    const created = structured(
      'github_create_issue',
      await call('github_create_issue', { owner: 'octocat', repo: 'Hello-World', title: 'Found a bug', body: "I'm having a problem with this.", labels: ['bug'], assignees: ['octocat'], milestone: 1 }),
    );
    const [req] = gh.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/repos/octocat/Hello-World/issues', query: {} });
    expect(req!.headers).toMatchObject({ ...GITHUB_HEADERS, 'content-type': 'application/json' });
    expect(JSON.parse(req!.rawBody)).toEqual({ title: 'Found a bug', body: "I'm having a problem with this.", labels: ['bug'], assignees: ['octocat'], milestone: 1 });
    expect(created).toMatchObject({ number: 1351, title: 'Found a bug', state: 'open', labels: ['bug'], assignees: ['octocat'], milestone: 'v1.0', html_url: 'https://github.com/octocat/Hello-World/issues/1351' });
  });

  it('github_create_issue_comment posts the body to the issue\'s comments', async () => {
    const { call } = setup();
    const comment = structured('github_create_issue_comment', await call('github_create_issue_comment', { owner: 'octocat', repo: 'Hello-World', issue_number: 1347, body: 'Me too' }));
    expect(gh.requests[0]).toMatchObject({ method: 'POST', path: '/repos/octocat/Hello-World/issues/1347/comments', body: { body: 'Me too' } });
    expect(comment).toMatchObject({ body: 'Me too', user: 'octocat', html_url: `https://github.com/octocat/Hello-World/issues/1347#issuecomment-${comment.id as number}` });
  });

  it('github_list_pull_requests and github_get_pull_request', async () => {
    const { call } = setup();
    const list = structured('github_list_pull_requests', await call('github_list_pull_requests', { owner: 'octocat', repo: 'Hello-World', state: 'open', base: 'master', per_page: 10 }));
    expect(gh.requests[0]).toMatchObject({ method: 'GET', path: '/repos/octocat/Hello-World/pulls', query: { state: 'open', base: 'master', per_page: '10' } });
    expect(list).toEqual({
      pull_requests: [
        {
          number: 1349,
          title: 'Fix typo in README',
          state: 'open',
          draft: false,
          user: 'octocat',
          head: { ref: 'new-topic', sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e', label: 'octocat:new-topic' },
          base: { ref: 'master', sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e' },
          html_url: 'https://github.com/octocat/Hello-World/pull/1349',
          created_at: '2011-04-25T08:00:00Z',
          updated_at: '2011-04-25T08:00:00Z',
          closed_at: null,
          merged_at: null,
        },
      ],
      next_page: null,
    });
    const pr = structured('github_get_pull_request', await call('github_get_pull_request', { owner: 'octocat', repo: 'Hello-World', pull_number: 1349 }));
    expect(gh.requests[1]).toMatchObject({ method: 'GET', path: '/repos/octocat/Hello-World/pulls/1349' });
    expect(pr).toMatchObject({ number: 1349, merged: false, mergeable: true, mergeable_state: 'clean', requested_reviewers: ['hubot'], commits: 3, additions: 100, deletions: 3, changed_files: 5, body: 'Please pull these awesome changes in!' });
  });

  it('github_get_repo on GitHub Enterprise keeps the /api/v3 base path', async () => {
    const { call } = setup({ baseUrl: ghe.url });
    expect(ghe.url).toMatch(/\/api\/v3$/);
    const repo = structured('github_get_repo', await call('github_get_repo', { owner: 'octocat', repo: 'Hello-World' }));
    expect(ghe.requests[0]).toMatchObject({ method: 'GET', path: '/api/v3/repos/octocat/Hello-World' });
    expect(gh.requests).toHaveLength(0);
    expect(repo).toEqual({
      full_name: 'octocat/Hello-World',
      owner: 'octocat',
      name: 'Hello-World',
      description: 'This your first repo!',
      private: false,
      visibility: 'public',
      fork: false,
      archived: false,
      default_branch: 'master',
      language: null,
      topics: ['octocat', 'atom', 'electron', 'api'],
      license: 'MIT',
      stargazers_count: 80,
      forks_count: 9,
      open_issues_count: 3,
      html_url: 'https://github.com/octocat/Hello-World',
      created_at: '2011-01-26T19:01:12Z',
      updated_at: '2011-01-26T19:14:43Z',
      pushed_at: '2011-01-26T19:06:43Z',
    });
  });

  it('follows GitHub\'s 301 for a renamed repository', async () => {
    const { call } = setup();
    const repo = structured('github_get_repo', await call('github_get_repo', { owner: 'octocat', repo: 'Hello-World-Old' }));
    expect(repo.full_name).toBe('octocat/Hello-World');
    expect(gh.requests.map((r) => r.path)).toEqual(['/repos/octocat/Hello-World-Old', '/repositories/1296269']);
    expect(gh.requests[1]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('github_search_issues sends q and pages, and names each item\'s repository', async () => {
    const { call } = setup();
    const found = structured('github_search_issues', await call('github_search_issues', { q: 'repo:octocat/Hello-World is:issue label:bug', sort: 'created', order: 'asc', per_page: 1 }));
    expect(gh.requests[0]).toMatchObject({ method: 'GET', path: '/search/issues', query: { q: 'repo:octocat/Hello-World is:issue label:bug', sort: 'created', order: 'asc', per_page: '1' } });
    expect(found).toMatchObject({ total_count: 2, incomplete_results: false, next_page: 2, items: [{ number: 1347, repository: 'octocat/Hello-World' }] });
  });
});

describe('github connector: failures', () => {
  it('a 404 is a tool error with GitHub\'s message', async () => {
    const { call } = setup();
    const text = errorText(await call('github_get_issue', { owner: 'octocat', repo: 'Hello-World', issue_number: 9999 }));
    expect(text).toBe('GitHub answered HTTP 404: Not Found');
  });

  it('a 422 names the invalid field', async () => {
    const { call } = setup();
    const text = errorText(await call('github_create_issue', { owner: 'octocat', repo: 'Hello-World', title: 'x', assignees: ['nobody'] }));
    expect(text).toBe('GitHub answered HTTP 422: Validation Failed: assignees invalid (nobody)');
  });

  it('an OAuth token refused with 401 is refreshed once through the vault, and the call goes through', async () => {
    gh.tokens.add(REFRESHED);
    gh.tokens.delete(TOKEN);
    try {
      const { call, resolveCredential } = setup({ authType: 'oauth2', tokens: [TOKEN, REFRESHED] });
      const issue = structured('github_get_issue', await call('github_get_issue', { owner: 'octocat', repo: 'Hello-World', issue_number: 1347 }));
      expect(issue.number).toBe(1347);
      expect(resolveCredential.mock.calls.map(([r]) => r)).toEqual([
        { tenantId: 'ten_1', accountId: 'ca_alice', grant: 'grant.jwt' },
        { tenantId: 'ten_1', accountId: 'ca_alice', grant: 'grant.jwt', rejectedToken: TOKEN },
      ]);
      expect(gh.tokensSeen()).toEqual([TOKEN, REFRESHED]);
    } finally {
      gh.tokens.add(TOKEN);
      gh.tokens.delete(REFRESHED);
    }
  });

  it('a token refused again after the refresh asks the user to re-authorize', async () => {
    const { call, resolveCredential, onCredentialRefused } = setup({ authType: 'oauth2', tokens: ['gho_revoked_1111', 'gho_revoked_2222'] });
    const err = await vmcpError(call('github_get_issue', { owner: 'octocat', repo: 'Hello-World', issue_number: 1347 }));
    expect(err.code).toBe('ACCOUNT_NOT_ACTIVE');
    // The account is reported, so policy marks it EXPIRED.
    expect(onCredentialRefused).toHaveBeenCalledExactlyOnceWith({ tenantId: 'ten_1', connectionId: 'conn_gh', accountId: 'ca_alice' });
    expect(err.message).toMatch(/even after a refresh; the user must authorize the connection again/);
    expect(err.message).not.toContain('gho_revoked');
    expect(resolveCredential).toHaveBeenCalledTimes(2);
    expect(gh.requests).toHaveLength(2);
  });

  it('a refused personal access token is not refreshed', async () => {
    const { call, resolveCredential, onCredentialRefused } = setup({ tokens: ['ghp_wrong_token_9999'] });
    const err = await vmcpError(call('github_create_issue', { owner: 'octocat', repo: 'Hello-World', title: 'x' }));
    expect(err).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE' });
    expect(onCredentialRefused).toHaveBeenCalledTimes(1);
    expect(err.message).toMatch(/refused the connected account's credential/);
    expect(resolveCredential).toHaveBeenCalledTimes(1);
    expect(gh.requests).toHaveLength(1);
  });

  it('a 429 with Retry-After is waited out for a read, never retried for a create', async () => {
    const { call } = setup();
    gh.override({ path: '/repos/octocat/Hello-World' }, { status: 429, headers: { 'retry-after': '1' }, body: { message: 'You have exceeded a secondary rate limit.', documentation_url: 'https://docs.github.com/rest' } });
    const started = Date.now();
    expect(structured('github_get_repo', await call('github_get_repo', { owner: 'octocat', repo: 'Hello-World' })).name).toBe('Hello-World');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(gh.requests).toHaveLength(2);

    gh.reset();
    gh.override({ method: 'POST' }, { status: 429, headers: { 'retry-after': '1' }, body: { message: 'You have exceeded a secondary rate limit.' } });
    const text = errorText(await call('github_create_issue', { owner: 'octocat', repo: 'Hello-World', title: 'x' }));
    expect(text).toBe('GitHub answered HTTP 429: You have exceeded a secondary rate limit. (retry after 1 s)');
    expect(gh.requests).toHaveLength(1);
    expect(gh.issues.has(1352)).toBe(false);
  });

  it('an exhausted primary rate limit reports when it resets instead of waiting an hour', async () => {
    const { call } = setup();
    const reset = Math.floor(Date.now() / 1000) + 1800;
    gh.override({ path: '/repos/octocat/Hello-World' }, { status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) }, body: { message: 'API rate limit exceeded for user ID 1.' } });
    const text = errorText(await call('github_get_repo', { owner: 'octocat', repo: 'Hello-World' }));
    expect(text).toMatch(/^GitHub answered HTTP 403: API rate limit exceeded for user ID 1\. \(retry after 1[78]\d\d s\)$/);
    expect(gh.requests).toHaveLength(1);
  });

  it('5xx after the retries is UNAVAILABLE', async () => {
    const { call } = setup();
    gh.override({ path: '/repos/octocat/Hello-World' }, { status: 502, body: 'Bad Gateway' }, 3);
    const err = await vmcpError(call('github_get_repo', { owner: 'octocat', repo: 'Hello-World' }));
    expect(err).toEqual(expect.objectContaining({ code: 'UNAVAILABLE', message: 'GitHub (connection "gh") is unavailable (HTTP 502)' }));
    expect(gh.requests).toHaveLength(3);
  });

  it('a slow GitHub ends at the call\'s deadline; a cancelled call stops at once', async () => {
    const { call } = setup();
    gh.override({ path: '/repos/octocat/Hello-World' }, { status: 200, body: {}, delayMs: 3000 });
    const started = Date.now();
    expect(await vmcpError(call('github_get_repo', { owner: 'octocat', repo: 'Hello-World' }, { timeoutMs: 300 }))).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(Date.now() - started).toBeLessThan(1500);

    gh.override({ path: '/repos/octocat/Hello-World' }, { status: 200, body: {}, delayMs: 3000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    expect(await vmcpError(call('github_get_repo', { owner: 'octocat', repo: 'Hello-World' }, { signal: controller.signal }))).toMatchObject({ code: 'CANCELLED', message: expect.stringMatching(/cancelled/) });
  });

  it('an answer over the size limit is a tool error asking for less', async () => {
    const { call } = setup();
    gh.override({ path: '/repos/octocat/Hello-World/issues' }, { status: 200, body: Array.from({ length: 100 }, () => ({ title: 'x'.repeat(1000) })), chunked: true });
    expect(errorText(await call('github_list_issues', { owner: 'octocat', repo: 'Hello-World', per_page: 100 }))).toBe(
      "GitHub's answer is larger than 0.1 MiB; ask for less (fewer results per page, a narrower query)",
    );
  });

  it('keeps the credential for the next call of the account, and drops it when told', async () => {
    const { call, connector, resolveCredential } = setup();
    await call('github_get_repo', { owner: 'octocat', repo: 'Hello-World' });
    await call('github_get_repo', { owner: 'octocat', repo: 'Hello-World' });
    expect(resolveCredential).toHaveBeenCalledTimes(1);
    expect(connector.sessions).toBe(1);
    connector.forget({ accountId: 'ca_alice' });
    expect(connector.sessions).toBe(0);
    await call('github_get_repo', { owner: 'octocat', repo: 'Hello-World' });
    expect(resolveCredential).toHaveBeenCalledTimes(2);
    await connector.close();
  });

  it('an unknown tool is TOOL_NOT_FOUND and costs no request', async () => {
    const { call, resolveCredential } = setup();
    expect(await vmcpError(call('github_nope', {}))).toMatchObject({ code: 'TOOL_NOT_FOUND' });
    expect(resolveCredential).not.toHaveBeenCalled();
    expect(gh.requests).toHaveLength(0);
  });
});
