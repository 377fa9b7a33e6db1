import { nextPageNumber } from '../http/pagination.js';
import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import {
  commentDetail,
  COMMENT_PROPS,
  DIRECTION,
  input,
  ISSUE_PROPS,
  ISSUE_SUMMARY,
  issueDetail,
  issueSummary,
  LOGIN,
  NEXT_PAGE,
  NUMBER,
  output,
  OWNER,
  PAGE,
  PER_PAGE,
  REPO,
  type GhComment,
  type GhIssue,
} from './github.schemas.js';

interface RepoArgs {
  readonly owner: string;
  readonly repo: string;
}

const LABEL = { type: 'string', minLength: 1, maxLength: 50, pattern: '^[^,]+$' } as const;

export interface ListIssuesArgs extends RepoArgs {
  readonly state?: 'open' | 'closed' | 'all';
  readonly labels?: readonly string[];
  readonly assignee?: string;
  readonly creator?: string;
  readonly since?: string;
  readonly sort?: 'created' | 'updated' | 'comments';
  readonly direction?: 'asc' | 'desc';
  readonly per_page?: number;
  readonly page?: number;
}

/** GET /repos/{owner}/{repo}/issues — docs.github.com/rest/issues/issues#list-repository-issues */
export const listIssues = defineTool<ListIssuesArgs>({
  name: 'github_list_issues',
  title: 'List issues of a GitHub repository',
  description:
    'Lists issues of one GitHub repository, newest first, one page at a time. GitHub counts pull requests as issues, so they appear too (is_pull_request: true). ' +
    'Filter by state, labels (all must match), assignee, creator or last update. Bodies are not included: use github_get_issue for one issue in full. ' +
    'When next_page is not null, call again with page set to it for more.',
  inputSchema: input(
    {
      owner: OWNER,
      repo: REPO,
      state: { type: 'string', enum: ['open', 'closed', 'all'], default: 'open', description: 'Which issues to list (default open).' },
      labels: { type: 'array', items: LABEL, maxItems: 20, uniqueItems: true, description: 'Label names; only issues with all of them are listed.' },
      assignee: { ...LOGIN, pattern: '^(?:none|\\*|[A-Za-z0-9][A-Za-z0-9_-]{0,99})$', description: 'Login of an assignee, "none" for unassigned issues, "*" for assigned ones.' },
      creator: { ...LOGIN, description: 'Login of the author.' },
      since: { type: 'string', format: 'date-time', description: 'Only issues updated at or after this time (ISO 8601, e.g. 2024-01-31T00:00:00Z).' },
      sort: { type: 'string', enum: ['created', 'updated', 'comments'], description: 'What to sort by (default created).' },
      direction: DIRECTION,
      per_page: PER_PAGE,
      page: PAGE,
    },
    ['owner', 'repo'],
  ),
  outputSchema: output({ issues: { type: 'array', items: ISSUE_SUMMARY }, next_page: NEXT_PAGE }),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const response = await http.get<GhIssue[]>('/repos/{owner}/{repo}/issues', {
      params: { owner: args.owner, repo: args.repo },
      query: {
        state: args.state,
        labels: args.labels?.length ? args.labels.join(',') : undefined,
        assignee: args.assignee,
        creator: args.creator,
        since: args.since,
        sort: args.sort,
        direction: args.direction,
        per_page: args.per_page,
        page: args.page,
      },
    });
    return { issues: response.body.map(issueSummary), next_page: nextPageNumber(response) ?? null };
  },
});

export interface IssueArgs extends RepoArgs {
  readonly issue_number: number;
}

/** GET /repos/{owner}/{repo}/issues/{issue_number} — docs.github.com/rest/issues/issues#get-an-issue */
export const getIssue = defineTool<IssueArgs>({
  name: 'github_get_issue',
  title: 'Get a GitHub issue',
  description:
    'Gets one issue (or pull request, seen as an issue) of a GitHub repository by number, with its full body, labels, assignees, milestone and state. ' +
    'Comments are counted, not included.',
  inputSchema: input({ owner: OWNER, repo: REPO, issue_number: NUMBER('issue') }, ['owner', 'repo', 'issue_number']),
  outputSchema: output(ISSUE_PROPS),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const response = await http.get<GhIssue>('/repos/{owner}/{repo}/issues/{issue_number}', { params: { ...args } });
    return issueDetail(response.body);
  },
});

export interface CreateIssueArgs extends RepoArgs {
  readonly title: string;
  readonly body?: string;
  readonly labels?: readonly string[];
  readonly assignees?: readonly string[];
  readonly milestone?: number;
}

/** POST /repos/{owner}/{repo}/issues — docs.github.com/rest/issues/issues#create-an-issue */
export const createIssue = defineTool<CreateIssueArgs>({
  name: 'github_create_issue',
  title: 'Create a GitHub issue',
  description:
    'Opens a new issue in a GitHub repository, as the connected user. Each call creates another issue, so do not repeat it to retry. ' +
    'Labels that do not exist yet are created; assignees must have access to the repository. Returns the new issue with its number and URL.',
  inputSchema: input(
    {
      owner: OWNER,
      repo: REPO,
      title: { type: 'string', minLength: 1, maxLength: 256, description: 'The title of the issue.' },
      body: { type: 'string', maxLength: 65536, description: 'The contents of the issue, in GitHub Markdown.' },
      labels: { type: 'array', items: LABEL, maxItems: 100, uniqueItems: true, description: 'Label names to add.' },
      assignees: { type: 'array', items: LOGIN, maxItems: 10, uniqueItems: true, description: 'Logins of the users to assign.' },
      milestone: { ...NUMBER('milestone'), description: 'Number of the milestone to associate the issue with.' },
    },
    ['owner', 'repo', 'title'],
  ),
  outputSchema: output(ISSUE_PROPS),
  annotations: ANNOTATIONS.create,
  async run({ owner, repo, ...fields }, http) {
    const response = await http.post<GhIssue>('/repos/{owner}/{repo}/issues', fields, { params: { owner, repo } });
    return issueDetail(response.body);
  },
});

export interface CreateCommentArgs extends IssueArgs {
  readonly body: string;
}

/** POST /repos/{owner}/{repo}/issues/{issue_number}/comments — docs.github.com/rest/issues/comments#create-an-issue-comment */
export const createIssueComment = defineTool<CreateCommentArgs>({
  name: 'github_create_issue_comment',
  title: 'Comment on a GitHub issue or pull request',
  description:
    'Adds a comment to an issue or pull request of a GitHub repository, as the connected user. Each call posts another comment, so do not repeat it to retry. ' +
    'Returns the comment with its id and URL.',
  inputSchema: input(
    {
      owner: OWNER,
      repo: REPO,
      issue_number: NUMBER('issue or pull request'),
      body: { type: 'string', minLength: 1, maxLength: 65536, description: 'The comment, in GitHub Markdown.' },
    },
    ['owner', 'repo', 'issue_number', 'body'],
  ),
  outputSchema: output(COMMENT_PROPS),
  annotations: ANNOTATIONS.create,
  async run({ owner, repo, issue_number, body }, http) {
    const response = await http.post<GhComment>('/repos/{owner}/{repo}/issues/{issue_number}/comments', { body }, { params: { owner, repo, issue_number } });
    return commentDetail(response.body);
  },
});
