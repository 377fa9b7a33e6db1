import { startFakeProvider, type FakeProvider, type FakeRequest, type FakeResponse, type RecordedRequest } from './fake-provider.js';

/**
 * A local stand-in for one Jira Cloud site's REST API v3
 * (developer.atlassian.com/cloud/jira/platform/rest/v3), reproducing the documented requests
 * and answers of the endpoints the jira connector uses: basic (email + API token) and bearer
 * authentication, the enhanced JQL search with `nextPageToken` paging and only the asked
 * `fields`, Atlassian Document Format bodies, transitions, and the
 * `{errorMessages, errors}` error body. Data follows the reference's examples (project ED,
 * Mia Krystof's account id). A `prefix` of `/ex/jira/{cloudId}` looks like the OAuth 2.0 gateway.
 */
export interface FakeJira extends FakeProvider {
  /** Bearer tokens accepted; change it to revoke one. */
  readonly tokens: Set<string>;
  /** `email:apiToken` pairs accepted as Basic credentials. */
  readonly basic: Set<string>;
  /** Issues by key, as stored (new ones are added; `reset` restores the seed data). */
  readonly issues: Map<string, JiraIssueRecord>;
  /** The bearer tokens (or basic user names) seen on requests, in order. */
  tokensSeen(): string[];
}

export interface FakeJiraOptions {
  /** Accepted bearer tokens (default: one, `jira_fixture_token_0001`). */
  readonly tokens?: readonly string[];
  /** Accepted `email:apiToken` pairs (default: `mia@example.com:ATATT_fixture_0001`). */
  readonly basic?: readonly string[];
  /** `/ex/jira/{cloudId}`, as through api.atlassian.com. */
  readonly prefix?: string;
}

export interface JiraIssueRecord {
  id: string;
  key: string;
  summary: string;
  issuetype: 'Task' | 'Bug' | 'Story' | 'Subtask';
  status: 'To Do' | 'In Progress' | 'Done';
  priority: string;
  assignee: string | null;
  reporter: string;
  labels: string[];
  description: unknown;
  duedate: string | null;
  parent: string | null;
  comments: Array<{ id: string; author: string; body: unknown; created: string }>;
  created: string;
  updated: string;
}

export const JIRA_USERS: Readonly<Record<string, string>> = {
  '5b10a2844c20165700ede21g': 'Mia Krystof',
  '5b10ac8d82e05b22cc7d4ef5': 'Emma Richards',
};
const MIA = '5b10a2844c20165700ede21g';
const EMMA = '5b10ac8d82e05b22cc7d4ef5';
const PROJECT = { id: '10000', key: 'ED', name: 'Example Project' };
const ISSUE_TYPES: Record<string, { id: string; subtask: boolean; hierarchyLevel: number }> = {
  Task: { id: '10001', subtask: false, hierarchyLevel: 0 },
  Bug: { id: '10004', subtask: false, hierarchyLevel: 0 },
  Story: { id: '10002', subtask: false, hierarchyLevel: 0 },
  Subtask: { id: '10003', subtask: true, hierarchyLevel: -1 },
};
const PRIORITIES: Record<string, string> = { Highest: '1', High: '2', Medium: '3', Low: '4', Lowest: '5' };
const STATUSES: Record<JiraIssueRecord['status'], { id: string; category: { id: number; key: string; colorName: string; name: string } }> = {
  'To Do': { id: '10000', category: { id: 2, key: 'new', colorName: 'blue-gray', name: 'To Do' } },
  'In Progress': { id: '3', category: { id: 4, key: 'indeterminate', colorName: 'yellow', name: 'In Progress' } },
  Done: { id: '10001', category: { id: 3, key: 'done', colorName: 'green', name: 'Done' } },
};
/** A team-managed project's simplified workflow: any status to any other, each transition named after its target. */
const TRANSITIONS: Record<string, JiraIssueRecord['status']> = { '11': 'To Do', '21': 'In Progress', '31': 'Done' };

const adf = (...paragraphs: string[]) => ({ type: 'doc', version: 1, content: paragraphs.map((text) => ({ type: 'paragraph', content: [{ type: 'text', text }] })) });

function seed(): Map<string, JiraIssueRecord> {
  const issues: JiraIssueRecord[] = [
    { id: '10001', key: 'ED-1', summary: 'Set up the build pipeline', issuetype: 'Task', status: 'Done', priority: 'Medium', assignee: MIA, reporter: MIA, labels: ['ci'], description: null, duedate: null, parent: null, comments: [], created: '2024-01-10T09:00:00.000+0000', updated: '2024-01-12T17:30:00.000+0000' },
    {
      id: '10002',
      key: 'ED-2',
      summary: 'Login page throws an error',
      issuetype: 'Bug',
      status: 'To Do',
      priority: 'High',
      assignee: MIA,
      reporter: EMMA,
      labels: ['frontend', 'login'],
      description: adf('Steps: open /login and submit the form.', 'Expected: signed in. Actual: HTTP 500.'),
      duedate: '2024-02-01',
      parent: null,
      comments: [{ id: '10000', author: EMMA, body: adf('Seen on Firefox too.'), created: '2024-01-15T11:00:00.000+0000' }],
      created: '2024-01-15T10:22:31.123+0000',
      updated: '2024-01-15T11:00:00.000+0000',
    },
    { id: '10003', key: 'ED-3', summary: 'Dark mode', issuetype: 'Story', status: 'In Progress', priority: 'Low', assignee: null, reporter: EMMA, labels: [], description: adf('Offer a dark theme.'), duedate: null, parent: null, comments: [], created: '2024-01-16T08:00:00.000+0000', updated: '2024-01-17T08:00:00.000+0000' },
  ];
  return new Map(issues.map((i) => [i.key, i]));
}

const jiraNow = () => new Date().toISOString().replace('Z', '+0000');
const jiraError = (status: number, errorMessages: string[], errors: Record<string, string> = {}): FakeResponse => ({ status, body: { errorMessages, errors } });
const NOT_FOUND = () => jiraError(404, ['Issue does not exist or you do not have permission to see it.']);

/** A document the way Jira checks one: `{type: "doc", version: 1, content: [...]}`. */
const isAdf = (v: unknown) => typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'doc' && (v as { version?: unknown }).version === 1 && Array.isArray((v as { content?: unknown }).content);

export async function startFakeJira(options: FakeJiraOptions = {}): Promise<FakeJira> {
  const tokens = new Set(options.tokens ?? ['jira_fixture_token_0001']);
  const basic = new Set(options.basic ?? ['mia@example.com:ATATT_fixture_0001']);
  const issues = seed();
  let base = '';
  let nextIssueId = 10004;
  let nextCommentId = 10001;

  const userJson = (accountId: string) => ({
    self: `${base}/rest/api/3/user?accountId=${accountId}`,
    accountId,
    avatarUrls: { '48x48': `https://avatar-management--avatars.server-location.prod.public.atl-paas.net/initials/${accountId}/48` },
    displayName: JIRA_USERS[accountId] ?? accountId,
    active: true,
    timeZone: 'Australia/Sydney',
    accountType: 'atlassian',
  });
  const commentJson = (c: JiraIssueRecord['comments'][number]) => ({ self: `${base}/rest/api/3/issue/comment/${c.id}`, id: c.id, author: userJson(c.author), body: c.body, updateAuthor: userJson(c.author), created: c.created, updated: c.created, jsdPublic: true });

  const allFields = (i: JiraIssueRecord): Record<string, unknown> => ({
    summary: i.summary,
    status: { self: `${base}/rest/api/3/status/${STATUSES[i.status].id}`, description: '', name: i.status, id: STATUSES[i.status].id, statusCategory: { self: `${base}/rest/api/3/statuscategory/${STATUSES[i.status].category.id}`, ...STATUSES[i.status].category } },
    issuetype: { self: `${base}/rest/api/3/issuetype/${ISSUE_TYPES[i.issuetype]!.id}`, id: ISSUE_TYPES[i.issuetype]!.id, description: '', name: i.issuetype, subtask: ISSUE_TYPES[i.issuetype]!.subtask, hierarchyLevel: ISSUE_TYPES[i.issuetype]!.hierarchyLevel },
    priority: { self: `${base}/rest/api/3/priority/${PRIORITIES[i.priority] ?? '3'}`, name: i.priority, id: PRIORITIES[i.priority] ?? '3' },
    assignee: i.assignee ? userJson(i.assignee) : null,
    reporter: userJson(i.reporter),
    project: { self: `${base}/rest/api/3/project/${PROJECT.id}`, ...PROJECT, projectTypeKey: 'software', simplified: true },
    labels: i.labels,
    created: i.created,
    updated: i.updated,
    description: i.description,
    resolution: i.status === 'Done' ? { self: `${base}/rest/api/3/resolution/10000`, id: '10000', description: 'Work has been completed on this issue.', name: 'Done' } : null,
    duedate: i.duedate,
    ...(i.parent ? { parent: { id: issues.get(i.parent)?.id ?? '0', key: i.parent, self: `${base}/rest/api/3/issue/${issues.get(i.parent)?.id ?? '0'}` } } : {}),
    comment: { comments: i.comments.map(commentJson), self: `${base}/rest/api/3/issue/${i.id}/comment`, maxResults: i.comments.length, total: i.comments.length, startAt: 0 },
  });

  /** The issue as Jira returns it: `fields` holds the asked ones (`*all` or none: all; the search defaults to none). */
  const issueJson = (i: JiraIssueRecord, fieldsParam: string | string[] | undefined, defaultAll: boolean) => {
    const wanted = [fieldsParam ?? []].flat().flatMap((f) => f.split(',')).map((f) => f.trim()).filter(Boolean);
    const all = allFields(i);
    const fields = wanted.length === 0 ? (defaultAll ? all : undefined) : wanted.includes('*all') ? all : Object.fromEntries(wanted.filter((f) => f in all).map((f) => [f, all[f]]));
    return { expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations', id: i.id, self: `${base}/rest/api/3/issue/${i.id}`, key: i.key, ...(fields ? { fields } : {}) };
  };

  const find = (idOrKey: string | undefined) => [...issues.values()].find((i) => i.key.toUpperCase() === idOrKey?.toUpperCase() || i.id === idOrKey);

  /** A small JQL: `field = value` / `field != value` clauses joined by AND, then ORDER BY one field. */
  const search = (r: RecordedRequest): FakeResponse => {
    const jql = typeof r.query.jql === 'string' ? r.query.jql.trim() : '';
    const [where = '', orderBy] = jql.split(/\s*\bORDER\s+BY\s+/i);
    if (!where.trim()) return jiraError(400, ['Unbounded JQL queries are not allowed here. Please add a search restriction to your query.']);
    let list = [...issues.values()];
    for (const clause of where.split(/\s+AND\s+/i)) {
      const m = /^\s*(\w+)\s*(!=|=)\s*("[^"]*"|'[^']*'|[^\s"']+)\s*$/.exec(clause);
      if (!m) return jiraError(400, [`Error in the JQL Query: Expecting operator but got '${clause.trim().split(/\s+/)[1] ?? ''}'. (line 1, character 1)`]);
      const [, field, op, raw] = m as unknown as [string, string, string, string];
      const value = raw.replace(/^["']|["']$/g, '');
      const get: Record<string, (i: JiraIssueRecord) => string[]> = {
        project: () => [PROJECT.key, PROJECT.id],
        status: (i) => [i.status],
        assignee: (i) => (i.assignee ? [i.assignee] : ['EMPTY']),
        reporter: (i) => [i.reporter],
        labels: (i) => i.labels,
        type: (i) => [i.issuetype],
        issuetype: (i) => [i.issuetype],
        key: (i) => [i.key],
        priority: (i) => [i.priority],
      };
      const of = get[field.toLowerCase()];
      if (!of) return jiraError(400, [`Field '${field}' does not exist or you do not have permission to view it.`]);
      const wanted = value === 'currentUser()' ? MIA : value;
      list = list.filter((i) => of(i).some((v) => v.toLowerCase() === wanted.toLowerCase()) === (op === '='));
    }
    const order = /^(\w+)(?:\s+(ASC|DESC))?$/i.exec((orderBy ?? 'key ASC').trim());
    if (order) {
      const [, f, dir] = order as unknown as [string, string, string | undefined];
      const sign = dir?.toUpperCase() === 'DESC' ? -1 : 1;
      const keyOf = (i: JiraIssueRecord) => (f.toLowerCase() === 'created' ? i.created : f.toLowerCase() === 'updated' ? i.updated : i.id.padStart(12, '0'));
      list.sort((a, b) => sign * keyOf(a).localeCompare(keyOf(b)));
    }
    const maxResults = Math.min(5000, Math.max(1, Number(r.query.maxResults ?? 50) || 50));
    let offset = 0;
    if (typeof r.query.nextPageToken === 'string') {
      const decoded = /^offset:(\d+)$/.exec(Buffer.from(r.query.nextPageToken, 'base64url').toString('utf8'));
      if (!decoded) return jiraError(400, ['The provided next page token is invalid or expired.']);
      offset = Number(decoded[1]);
    }
    const page = list.slice(offset, offset + maxResults);
    const isLast = offset + maxResults >= list.length;
    return {
      status: 200,
      body: { issues: page.map((i) => issueJson(i, r.query.fields, false)), ...(isLast ? {} : { nextPageToken: Buffer.from(`offset:${offset + maxResults}`).toString('base64url') }), isLast },
    };
  };

  const createIssue = (r: RecordedRequest): FakeResponse => {
    const f = ((r.body ?? {}) as { fields?: Record<string, unknown> }).fields ?? {};
    const errors: Record<string, string> = {};
    const project = f.project as { key?: unknown; id?: unknown } | undefined;
    if (!project || (project.key !== PROJECT.key && project.id !== PROJECT.id)) errors.project = 'valid project is required';
    const typeName = (f.issuetype as { name?: unknown } | undefined)?.name;
    if (!f.issuetype) errors.issuetype = 'Specify an issue type';
    else if (typeof typeName !== 'string' || !ISSUE_TYPES[typeName]) errors.issuetype = 'The issue type selected is invalid.';
    if (typeof f.summary !== 'string' || f.summary.trim() === '') errors.summary = 'You must specify a summary of the issue.';
    if (f.description !== undefined && !isAdf(f.description)) errors.description = 'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
    const priority = (f.priority as { name?: unknown } | undefined)?.name;
    if (priority !== undefined && (typeof priority !== 'string' || !PRIORITIES[priority])) errors.priority = `Priority name '${String(priority)}' is not valid`;
    const assignee = (f.assignee as { accountId?: unknown } | undefined)?.accountId;
    if (assignee !== undefined && (typeof assignee !== 'string' || !JIRA_USERS[assignee])) errors.assignee = `Specified user does not exist or you do not have required permissions`;
    const parent = (f.parent as { key?: unknown } | undefined)?.key;
    if (typeName === 'Subtask' && parent === undefined) errors.parent = 'Given parent work item does not belong to appropriate hierarchy.';
    if (parent !== undefined && !find(String(parent))) errors.parent = 'Could not find issue by id or key.';
    if (Object.keys(errors).length > 0) return jiraError(400, [], errors);
    const id = String(nextIssueId++);
    const key = `${PROJECT.key}-${Math.max(...[...issues.values()].map((i) => Number(i.key.split('-')[1]))) + 1}`;
    const now = jiraNow();
    issues.set(key, {
      id,
      key,
      summary: f.summary as string,
      issuetype: typeName as JiraIssueRecord['issuetype'],
      status: 'To Do',
      priority: typeof priority === 'string' ? priority : 'Medium',
      assignee: typeof assignee === 'string' ? assignee : null,
      reporter: MIA,
      labels: Array.isArray(f.labels) ? (f.labels as string[]) : [],
      description: f.description ?? null,
      duedate: null,
      parent: typeof parent === 'string' ? parent : null,
      comments: [],
      created: now,
      updated: now,
    });
    return { status: 201, body: { id, key, self: `${base}/rest/api/3/issue/${id}` } };
  };

  const withIssue = (handle: (i: JiraIssueRecord, r: FakeRequest) => FakeResponse) => (r: FakeRequest) => {
    const i = find(r.params.issue);
    return i ? handle(i, r) : NOT_FOUND();
  };

  const provider = await startFakeProvider({
    prefix: options.prefix ?? '',
    headers: { 'x-arequestid': 'f2a1b3c4-0000-4000-8000-000000000001', 'x-aaccountid': MIA },
    gate(r) {
      const auth = r.headers.authorization ?? '';
      const bearer = /^Bearer\s+(.+)$/i.exec(auth)?.[1];
      const pair = /^Basic\s+(.+)$/i.exec(auth)?.[1];
      if (bearer && tokens.has(bearer)) return undefined;
      if (pair && basic.has(Buffer.from(pair, 'base64').toString('utf8'))) return undefined;
      // Jira Cloud: "Returned if the authentication credentials are incorrect or missing."
      return { status: 401, headers: { 'www-authenticate': 'OAuth realm="https%3A%2F%2Fyour-domain.atlassian.net"' }, body: 'Client must be authenticated to access this resource.' };
    },
    routes: [
      { method: 'GET', path: '/rest/api/3/search/jql', handle: search },
      { method: 'GET', path: '/rest/api/3/issue/:issue', handle: withIssue((i, r) => ({ status: 200, body: issueJson(i, r.query.fields, true) })) },
      { method: 'POST', path: '/rest/api/3/issue', handle: createIssue },
      {
        method: 'POST',
        path: '/rest/api/3/issue/:issue/comment',
        handle: withIssue((i, r) => {
          const body = (r.body as { body?: unknown } | undefined)?.body;
          if (!isAdf(body)) return jiraError(400, [], { comment: 'Comment body can not be empty!' });
          const comment = { id: String(nextCommentId++), author: MIA, body, created: jiraNow() };
          i.comments.push(comment);
          i.updated = comment.created;
          return { status: 201, body: commentJson(comment) };
        }),
      },
      {
        method: 'GET',
        path: '/rest/api/3/issue/:issue/transitions',
        handle: withIssue((i) => ({
          status: 200,
          body: {
            expand: 'transitions',
            transitions: Object.entries(TRANSITIONS)
              .filter(([, to]) => to !== i.status)
              .map(([id, to]) => ({
                id,
                name: to,
                to: { self: `${base}/rest/api/3/status/${STATUSES[to].id}`, description: '', name: to, id: STATUSES[to].id, statusCategory: { self: `${base}/rest/api/3/statuscategory/${STATUSES[to].category.id}`, ...STATUSES[to].category } },
                hasScreen: false,
                isGlobal: true,
                isInitial: false,
                isAvailable: true,
                isConditional: false,
                isLooped: false,
              })),
          },
        })),
      },
      {
        method: 'POST',
        path: '/rest/api/3/issue/:issue/transitions',
        handle: withIssue((i, r) => {
          const b = (r.body ?? {}) as { transition?: { id?: unknown }; update?: { comment?: Array<{ add?: { body?: unknown } }> } };
          const id = b.transition?.id;
          const to = typeof id === 'string' ? TRANSITIONS[id] : undefined;
          if (!to || to === i.status) return jiraError(400, [`Transition id '${String(id)}' is not valid for this issue.`]);
          const now = jiraNow();
          i.status = to;
          i.updated = now;
          for (const c of b.update?.comment ?? []) if (isAdf(c.add?.body)) i.comments.push({ id: String(nextCommentId++), author: MIA, body: c.add!.body, created: now });
          return { status: 204 };
        }),
      },
    ],
    notFound: () => jiraError(404, ['null for uri: ' + base]),
  });
  base = provider.url;

  return {
    ...provider,
    reset() {
      provider.reset();
      issues.clear();
      for (const [k, i] of seed()) issues.set(k, i);
    },
    tokens,
    basic,
    issues,
    tokensSeen: () =>
      provider.requests.map((r) => {
        const auth = r.headers.authorization ?? '';
        const pair = /^Basic\s+(.+)$/i.exec(auth)?.[1];
        return pair ? Buffer.from(pair, 'base64').toString('utf8').split(':')[0]! : (/^Bearer\s+(.+)$/i.exec(auth)?.[1] ?? '');
      }),
  };
}
