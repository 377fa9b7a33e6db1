import { startFakeProvider, type FakeProvider, type FakeRequest, type FakeResponse, type RecordedRequest } from './fake-provider.js';

/**
 * A local stand-in for the GitHub REST API v3 (docs.github.com/rest), reproducing the
 * documented requests and answers of the endpoints the github connector uses: bearer
 * authentication ("Bad credentials" 401), the User-Agent requirement, Link-header
 * pagination, 404 and 422 error bodies, a renamed repository's 301, and the rate-limit
 * headers. Data follows the examples of GitHub's reference (octocat/Hello-World).
 */
export interface FakeGitHub extends FakeProvider {
  /** Tokens accepted as `Authorization: Bearer …` (or `token …`); change it to revoke one. */
  readonly tokens: Set<string>;
  /** Issues and pull requests by number, as stored (new issues are added; `reset` restores the seed data). */
  readonly issues: Map<number, GhIssueRecord>;
  /** The tokens seen on requests, in order. */
  tokensSeen(): string[];
}

export interface FakeGitHubOptions {
  /** Accepted tokens (default: one, `ghp_fixture_token_0001`). */
  readonly tokens?: readonly string[];
  /** `/api/v3` to look like GitHub Enterprise Server. */
  readonly prefix?: string;
}

export interface GhIssueRecord {
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  state_reason: string | null;
  user: string;
  labels: string[];
  assignees: string[];
  milestone: string | null;
  comments: Array<{ id: number; body: string; user: string; created_at: string }>;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  pull?: { head: string; head_sha: string; base: string; merged_at: string | null; draft: boolean };
}

const OWNER = 'octocat';
const REPO = 'Hello-World';
const REPO_ID = 1296269;
const COLLABORATORS = new Set(['octocat', 'hubot', 'monalisa']);
const DOCS = 'https://docs.github.com/rest';

const user = (login: string) => ({
  login,
  id: login === 'octocat' ? 1 : 1000 + login.length,
  node_id: `MDQ6VXNlcj${login}`,
  avatar_url: `https://github.com/images/error/${login}_happy.gif`,
  html_url: `https://github.com/${login}`,
  type: 'User',
  site_admin: false,
});

const LABELS: Record<string, { id: number; description: string; color: string }> = {
  bug: { id: 208045946, description: "Something isn't working", color: 'f29513' },
  enhancement: { id: 208045947, description: 'New feature or request', color: 'a2eeef' },
};

function seed(): Map<number, GhIssueRecord> {
  const issues: GhIssueRecord[] = [
    { number: 1347, title: 'Found a bug', body: "I'm having a problem with this.", state: 'open', state_reason: null, user: 'octocat', labels: ['bug'], assignees: ['octocat'], milestone: 'v1.0', comments: [], created_at: '2011-04-22T13:33:48Z', updated_at: '2011-04-22T13:33:48Z', closed_at: null },
    { number: 1348, title: 'Add dark mode', body: 'It would be nice to have a dark theme.', state: 'open', state_reason: null, user: 'hubot', labels: ['enhancement'], assignees: [], milestone: null, comments: [], created_at: '2011-04-23T10:00:00Z', updated_at: '2011-04-24T09:00:00Z', closed_at: null },
    { number: 1349, title: 'Fix typo in README', body: 'Please pull these awesome changes in!', state: 'open', state_reason: null, user: 'octocat', labels: [], assignees: [], milestone: null, comments: [], created_at: '2011-04-25T08:00:00Z', updated_at: '2011-04-25T08:00:00Z', closed_at: null, pull: { head: 'new-topic', head_sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e', base: 'master', merged_at: null, draft: false } },
    { number: 1350, title: 'Crash on start', body: 'The app crashes when started without a config.', state: 'closed', state_reason: 'completed', user: 'monalisa', labels: ['bug'], assignees: ['hubot'], milestone: null, comments: [], created_at: '2011-04-26T08:00:00Z', updated_at: '2011-04-28T08:00:00Z', closed_at: '2011-04-28T08:00:00Z' },
  ];
  return new Map(issues.map((i) => [i.number, i]));
}

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const tokens = new Set(options.tokens ?? ['ghp_fixture_token_0001']);
  const issues = seed();
  let nextCommentId = 1;
  let base = '';
  const apiRepo = () => `${base}/repos/${OWNER}/${REPO}`;

  const json = (status: number, body: unknown, headers: Record<string, string> = {}): FakeResponse => ({ status, body, headers });
  const notFound = (doc: string): FakeResponse => json(404, { message: 'Not Found', documentation_url: `${DOCS}/${doc}`, status: '404' });
  const isHelloWorld = (r: FakeRequest) => r.params.owner?.toLowerCase() === OWNER.toLowerCase() && r.params.repo?.toLowerCase() === REPO.toLowerCase();

  const issueJson = (i: GhIssueRecord) => ({
    url: `${apiRepo()}/issues/${i.number}`,
    repository_url: apiRepo(),
    labels_url: `${apiRepo()}/issues/${i.number}/labels{/name}`,
    comments_url: `${apiRepo()}/issues/${i.number}/comments`,
    events_url: `${apiRepo()}/issues/${i.number}/events`,
    html_url: `https://github.com/${OWNER}/${REPO}/${i.pull ? 'pull' : 'issues'}/${i.number}`,
    id: 1_000_000 + i.number,
    node_id: `MDU6SXNzdWUx${i.number}`,
    number: i.number,
    title: i.title,
    user: user(i.user),
    labels: i.labels.map((name) => ({ id: LABELS[name]?.id ?? 1, node_id: `MDU6TGFiZWw${name}`, url: `${apiRepo()}/labels/${name}`, name, description: LABELS[name]?.description ?? null, color: LABELS[name]?.color ?? 'ededed', default: name === 'bug' })),
    state: i.state,
    locked: false,
    assignee: i.assignees[0] ? user(i.assignees[0]) : null,
    assignees: i.assignees.map(user),
    milestone: i.milestone ? { url: `${apiRepo()}/milestones/1`, id: 1002604, number: 1, state: 'open', title: i.milestone, description: 'Tracking milestone for version 1.0', open_issues: 4, closed_issues: 8 } : null,
    comments: i.comments.length,
    ...(i.pull ? { pull_request: { url: `${apiRepo()}/pulls/${i.number}`, html_url: `https://github.com/${OWNER}/${REPO}/pull/${i.number}`, diff_url: `https://github.com/${OWNER}/${REPO}/pull/${i.number}.diff`, patch_url: `https://github.com/${OWNER}/${REPO}/pull/${i.number}.patch`, merged_at: i.pull.merged_at } } : {}),
    closed_at: i.closed_at,
    created_at: i.created_at,
    updated_at: i.updated_at,
    closed_by: i.state === 'closed' ? user(i.user) : null,
    author_association: i.user === OWNER ? 'OWNER' : 'COLLABORATOR',
    active_lock_reason: null,
    body: i.body,
    state_reason: i.state_reason,
  });

  const pullJson = (i: GhIssueRecord, detail: boolean) => {
    const p = i.pull!;
    const repoRef = { id: REPO_ID, name: REPO, full_name: `${OWNER}/${REPO}`, owner: user(OWNER), private: false };
    return {
      url: `${apiRepo()}/pulls/${i.number}`,
      id: 2_000_000 + i.number,
      node_id: `MDExOlB1bGxSZXF1ZXN0${i.number}`,
      html_url: `https://github.com/${OWNER}/${REPO}/pull/${i.number}`,
      number: i.number,
      state: i.state,
      locked: false,
      title: i.title,
      user: user(i.user),
      body: i.body,
      labels: i.labels.map((name) => ({ id: LABELS[name]?.id ?? 1, name, color: LABELS[name]?.color ?? 'ededed', default: false })),
      milestone: null,
      active_lock_reason: null,
      created_at: i.created_at,
      updated_at: i.updated_at,
      closed_at: i.closed_at,
      merged_at: p.merged_at,
      merge_commit_sha: p.merged_at ? 'e5bd3914e2e596debea16f433f57875b5b90bcd6' : null,
      assignee: null,
      assignees: i.assignees.map(user),
      requested_reviewers: [user('hubot')],
      requested_teams: [],
      head: { label: `${OWNER}:${p.head}`, ref: p.head, sha: p.head_sha, user: user(OWNER), repo: repoRef },
      base: { label: `${OWNER}:${p.base}`, ref: p.base, sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e', user: user(OWNER), repo: repoRef },
      author_association: 'OWNER',
      draft: p.draft,
      ...(detail
        ? { merged: p.merged_at !== null, mergeable: true, rebaseable: true, mergeable_state: 'clean', merged_by: null, comments: i.comments.length, review_comments: 0, maintainer_can_modify: true, commits: 3, additions: 100, deletions: 3, changed_files: 5 }
        : {}),
    };
  };

  /** A page of `items` and GitHub's Link header (next, last, first, prev) for `path` and `query`. */
  const page = <T>(items: T[], r: RecordedRequest, path: string): { items: T[]; headers: Record<string, string> } => {
    const perPage = Math.min(100, Math.max(1, Number(r.query.per_page ?? 30) || 30));
    const current = Math.max(1, Number(r.query.page ?? 1) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (p: number) => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(r.query)) if (k !== 'page') for (const x of [v].flat()) q.append(k, x);
      q.set('page', String(p));
      return `<${base}${path}?${q}>`;
    };
    const links: string[] = [];
    if (current > 1) links.push(`${link(current - 1)}; rel="prev"`);
    if (current < last) links.push(`${link(current + 1)}; rel="next"`, `${link(last)}; rel="last"`);
    if (current > 1) links.push(`${link(1)}; rel="first"`);
    return { items: items.slice((current - 1) * perPage, current * perPage), headers: links.length ? { link: links.join(', ') } : {} };
  };

  const listIssues = (r: FakeRequest) => {
    const state = (r.query.state as string | undefined) ?? 'open';
    if (!['open', 'closed', 'all'].includes(state)) {
      return json(422, { message: 'Validation Failed', errors: [{ value: state, resource: 'Issue', field: 'state', code: 'invalid' }], documentation_url: `${DOCS}/issues/issues#list-repository-issues`, status: '422' });
    }
    const labels = typeof r.query.labels === 'string' ? r.query.labels.split(',') : [];
    const direction = r.query.direction === 'asc' ? 1 : -1;
    const all = [...issues.values()]
      .filter((i) => state === 'all' || i.state === state)
      .filter((i) => labels.every((l) => i.labels.includes(l)))
      .filter((i) => r.query.creator === undefined || i.user === r.query.creator)
      .filter((i) => r.query.assignee === undefined || (r.query.assignee === 'none' ? i.assignees.length === 0 : r.query.assignee === '*' ? i.assignees.length > 0 : i.assignees.includes(r.query.assignee as string)))
      .sort((a, b) => direction * a.created_at.localeCompare(b.created_at));
    const p = page(all, r, `/repositories/${REPO_ID}/issues`);
    return json(200, p.items.map(issueJson), p.headers);
  };

  const repoJson = () => ({
    id: REPO_ID,
    node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5',
    name: REPO,
    full_name: `${OWNER}/${REPO}`,
    owner: user(OWNER),
    private: false,
    html_url: `https://github.com/${OWNER}/${REPO}`,
    description: 'This your first repo!',
    fork: false,
    url: apiRepo(),
    homepage: 'https://github.com',
    language: null,
    forks_count: 9,
    stargazers_count: 80,
    watchers_count: 80,
    size: 108,
    default_branch: 'master',
    open_issues_count: [...issues.values()].filter((i) => i.state === 'open').length,
    is_template: false,
    topics: ['octocat', 'atom', 'electron', 'api'],
    has_issues: true,
    archived: false,
    disabled: false,
    visibility: 'public',
    pushed_at: '2011-01-26T19:06:43Z',
    created_at: '2011-01-26T19:01:12Z',
    updated_at: '2011-01-26T19:14:43Z',
    license: { key: 'mit', name: 'MIT License', spdx_id: 'MIT', url: `${base}/licenses/mit`, node_id: 'MDc6TGljZW5zZW1pdA==' },
    forks: 9,
    open_issues: 0,
    watchers: 80,
  });

  const search = (r: RecordedRequest) => {
    const q = typeof r.query.q === 'string' ? r.query.q : '';
    if (!q.trim()) {
      return json(422, { message: 'Validation Failed', errors: [{ resource: 'Search', field: 'q', code: 'missing' }], documentation_url: `${DOCS}/search/search#search-issues-and-pull-requests`, status: '422' });
    }
    const words: string[] = [];
    let list = [...issues.values()];
    for (const term of q.split(/\s+/).filter(Boolean)) {
      const [key, value] = term.includes(':') ? [term.slice(0, term.indexOf(':')), term.slice(term.indexOf(':') + 1)] : ['', term];
      if (key === 'repo') list = value.toLowerCase() === `${OWNER}/${REPO}`.toLowerCase() ? list : [];
      else if (key === 'is' && value === 'issue') list = list.filter((i) => !i.pull);
      else if (key === 'is' && (value === 'pr' || value === 'pull-request')) list = list.filter((i) => i.pull);
      else if ((key === 'is' || key === 'state') && (value === 'open' || value === 'closed')) list = list.filter((i) => i.state === value);
      else if (key === 'label') list = list.filter((i) => i.labels.includes(value.replace(/^"|"$/g, '')));
      else if (key === 'author') list = list.filter((i) => i.user === value);
      else words.push(term.toLowerCase());
    }
    list = list.filter((i) => words.every((w) => `${i.title} ${i.body ?? ''}`.toLowerCase().includes(w)));
    const p = page(list, r, '/search/issues');
    return json(200, { total_count: list.length, incomplete_results: false, items: p.items.map((i) => ({ ...issueJson(i), score: 1 })) }, p.headers);
  };

  const provider = await startFakeProvider({
    prefix: options.prefix ?? '',
    headers: {
      'x-github-api-version-selected': '2022-11-28',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-ratelimit-used': '1',
      'x-ratelimit-resource': 'core',
      'x-github-media-type': 'github.v3; format=json',
    },
    // GitHub refuses requests without a User-Agent, and bad tokens, before anything else.
    gate(r) {
      if (!r.headers['user-agent']) {
        return { status: 403, body: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n' };
      }
      const token = /^(?:Bearer|token)\s+(.+)$/i.exec(r.headers.authorization ?? '')?.[1];
      if (!token || !tokens.has(token)) return json(401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
      return undefined;
    },
    routes: [
      {
        method: 'GET',
        path: '/repos/:owner/:repo',
        handle: (r) => {
          if (r.params.owner?.toLowerCase() === OWNER && r.params.repo === 'Hello-World-Old') return { status: 301, headers: { location: `${base}/repositories/${REPO_ID}` }, body: { message: 'Moved Permanently', url: `${base}/repositories/${REPO_ID}`, documentation_url: `${DOCS}/overview/resources-in-the-rest-api#http-redirects` } };
          return isHelloWorld(r) ? json(200, repoJson()) : notFound('repos/repos#get-a-repository');
        },
      },
      { method: 'GET', path: `/repositories/${REPO_ID}`, handle: () => json(200, repoJson()) },
      { method: 'GET', path: '/repos/:owner/:repo/issues', handle: (r) => (isHelloWorld(r) ? listIssues(r) : notFound('issues/issues#list-repository-issues')) },
      { method: 'GET', path: `/repositories/${REPO_ID}/issues`, handle: (r) => listIssues({ ...r, params: { owner: OWNER, repo: REPO } }) },
      {
        method: 'GET',
        path: '/repos/:owner/:repo/issues/:number',
        handle: (r) => {
          const i = isHelloWorld(r) ? issues.get(Number(r.params.number)) : undefined;
          return i ? json(200, issueJson(i)) : notFound('issues/issues#get-an-issue');
        },
      },
      {
        method: 'POST',
        path: '/repos/:owner/:repo/issues',
        handle: (r) => {
          if (!isHelloWorld(r)) return notFound('issues/issues#create-an-issue');
          const b = (r.body ?? {}) as { title?: unknown; body?: unknown; labels?: unknown; assignees?: unknown; milestone?: unknown };
          const invalid = (field: string, code: string, value?: unknown) =>
            json(422, { message: 'Validation Failed', errors: [{ ...(value !== undefined ? { value } : {}), resource: 'Issue', field, code }], documentation_url: `${DOCS}/issues/issues#create-an-issue`, status: '422' });
          if (typeof b.title !== 'string' || b.title === '') return invalid('title', 'missing_field');
          const assignees = Array.isArray(b.assignees) ? (b.assignees as string[]) : [];
          const stranger = assignees.find((a) => !COLLABORATORS.has(a));
          if (stranger) return invalid('assignees', 'invalid', stranger);
          const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
          const number = Math.max(...issues.keys()) + 1;
          const created: GhIssueRecord = { number, title: b.title, body: typeof b.body === 'string' ? b.body : null, state: 'open', state_reason: null, user: 'octocat', labels: Array.isArray(b.labels) ? (b.labels as string[]) : [], assignees, milestone: b.milestone === 1 ? 'v1.0' : null, comments: [], created_at: now, updated_at: now, closed_at: null };
          issues.set(number, created);
          return json(201, issueJson(created), { location: `${apiRepo()}/issues/${number}` });
        },
      },
      {
        method: 'POST',
        path: '/repos/:owner/:repo/issues/:number/comments',
        handle: (r) => {
          const i = isHelloWorld(r) ? issues.get(Number(r.params.number)) : undefined;
          if (!i) return notFound('issues/comments#create-an-issue-comment');
          const b = (r.body ?? {}) as { body?: unknown };
          if (typeof b.body !== 'string' || b.body === '') {
            return json(422, { message: 'Validation Failed', errors: [{ resource: 'IssueComment', code: 'missing_field', field: 'body' }], documentation_url: `${DOCS}/issues/comments#create-an-issue-comment`, status: '422' });
          }
          const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
          const comment = { id: nextCommentId++, body: b.body, user: 'octocat', created_at: now };
          i.comments.push(comment);
          return json(
            201,
            {
              id: comment.id,
              node_id: `MDEyOklzc3VlQ29tbWVudDE${comment.id}`,
              url: `${apiRepo()}/issues/comments/${comment.id}`,
              html_url: `https://github.com/${OWNER}/${REPO}/issues/${i.number}#issuecomment-${comment.id}`,
              body: comment.body,
              user: user(comment.user),
              created_at: now,
              updated_at: now,
              issue_url: `${apiRepo()}/issues/${i.number}`,
              author_association: 'OWNER',
            },
            { location: `${apiRepo()}/issues/comments/${comment.id}` },
          );
        },
      },
      {
        method: 'GET',
        path: '/repos/:owner/:repo/pulls',
        handle: (r) => {
          if (!isHelloWorld(r)) return notFound('pulls/pulls#list-pull-requests');
          const state = (r.query.state as string | undefined) ?? 'open';
          const pulls = [...issues.values()]
            .filter((i) => i.pull && (state === 'all' || i.state === state))
            .filter((i) => r.query.base === undefined || i.pull!.base === r.query.base)
            .filter((i) => r.query.head === undefined || `${OWNER}:${i.pull!.head}` === r.query.head)
            .sort((a, b) => b.created_at.localeCompare(a.created_at));
          const p = page(pulls, r, `/repos/${OWNER}/${REPO}/pulls`);
          return json(200, p.items.map((i) => pullJson(i, false)), p.headers);
        },
      },
      {
        method: 'GET',
        path: '/repos/:owner/:repo/pulls/:number',
        handle: (r) => {
          const i = isHelloWorld(r) ? issues.get(Number(r.params.number)) : undefined;
          return i?.pull ? json(200, pullJson(i, true)) : notFound('pulls/pulls#get-a-pull-request');
        },
      },
      { method: 'GET', path: '/search/issues', handle: (r) => search(r) },
    ],
    notFound: () => json(404, { message: 'Not Found', documentation_url: DOCS, status: '404' }),
  });
  base = provider.url;

  return {
    ...provider,
    reset() {
      provider.reset();
      issues.clear();
      for (const [n, i] of seed()) issues.set(n, i);
    },
    tokens,
    issues,
    tokensSeen: () => provider.requests.map((r) => /^(?:Bearer|token)\s+(.+)$/i.exec(r.headers.authorization ?? '')?.[1] ?? ''),
  };
}
