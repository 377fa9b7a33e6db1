import { nextPageNumber } from '../http/pagination.js';
import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import { DIRECTION, input, NEXT_PAGE, NUMBER, output, OWNER, PAGE, PER_PAGE, PULL_PROPS, PULL_SUMMARY, pullDetail, pullSummary, REPO, type GhPull } from './github.schemas.js';

export interface ListPullsArgs {
  readonly owner: string;
  readonly repo: string;
  readonly state?: 'open' | 'closed' | 'all';
  readonly head?: string;
  readonly base?: string;
  readonly sort?: 'created' | 'updated' | 'popularity' | 'long-running';
  readonly direction?: 'asc' | 'desc';
  readonly per_page?: number;
  readonly page?: number;
}

const BRANCH = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\s~^:?*\\[\\\\]+$' } as const;

/** GET /repos/{owner}/{repo}/pulls — docs.github.com/rest/pulls/pulls#list-pull-requests */
export const listPullRequests = defineTool<ListPullsArgs>({
  name: 'github_list_pull_requests',
  title: 'List pull requests of a GitHub repository',
  description:
    'Lists pull requests of one GitHub repository, one page at a time, with their branches and merge time. Filter by state, head or base branch. ' +
    'Bodies and diff statistics are not included: use github_get_pull_request for one in full. When next_page is not null, call again with page set to it for more.',
  inputSchema: input(
    {
      owner: { ...OWNER },
      repo: REPO,
      state: { type: 'string', enum: ['open', 'closed', 'all'], default: 'open', description: 'Which pull requests to list (default open).' },
      head: { type: 'string', minLength: 3, maxLength: 356, pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,99}:[^\\s~^:?*\\[\\\\]+$', description: 'Only pull requests from this branch, as user:branch or org:branch (e.g. "octocat:new-feature").' },
      base: { ...BRANCH, description: 'Only pull requests into this branch, e.g. "main".' },
      sort: { type: 'string', enum: ['created', 'updated', 'popularity', 'long-running'], description: 'What to sort by (default created).' },
      direction: DIRECTION,
      per_page: PER_PAGE,
      page: PAGE,
    },
    ['owner', 'repo'],
  ),
  outputSchema: output({ pull_requests: { type: 'array', items: PULL_SUMMARY }, next_page: NEXT_PAGE }),
  annotations: ANNOTATIONS.read,
  async run({ owner, repo, ...query }, http) {
    const response = await http.get<GhPull[]>('/repos/{owner}/{repo}/pulls', { params: { owner, repo }, query: { ...query } });
    return { pull_requests: response.body.map(pullSummary), next_page: nextPageNumber(response) ?? null };
  },
});

export interface PullArgs {
  readonly owner: string;
  readonly repo: string;
  readonly pull_number: number;
}

/** GET /repos/{owner}/{repo}/pulls/{pull_number} — docs.github.com/rest/pulls/pulls#get-a-pull-request */
export const getPullRequest = defineTool<PullArgs>({
  name: 'github_get_pull_request',
  title: 'Get a GitHub pull request',
  description:
    'Gets one pull request of a GitHub repository by number: body, branches, whether it is merged or mergeable, reviewers requested, and the size of the change ' +
    '(commits, additions, deletions, changed files).',
  inputSchema: input({ owner: OWNER, repo: REPO, pull_number: NUMBER('pull request') }, ['owner', 'repo', 'pull_number']),
  outputSchema: output(PULL_PROPS),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const response = await http.get<GhPull>('/repos/{owner}/{repo}/pulls/{pull_number}', { params: { ...args } });
    return pullDetail(response.body);
  },
});
