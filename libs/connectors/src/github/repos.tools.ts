import { nextPageNumber } from '../http/pagination.js';
import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import { input, issueSummary, NEXT_PAGE, output, OWNER, PAGE, PER_PAGE, REPO, REPO_PROPS, repoDetail, repositoryOf, SEARCH_ITEM, type GhIssue, type GhRepo } from './github.schemas.js';

export interface RepoArgs {
  readonly owner: string;
  readonly repo: string;
}

/** GET /repos/{owner}/{repo} — docs.github.com/rest/repos/repos#get-a-repository */
export const getRepo = defineTool<RepoArgs>({
  name: 'github_get_repo',
  title: 'Get a GitHub repository',
  description:
    'Gets a GitHub repository: description, visibility, default branch, main language, topics, license, stars, forks, open issue count and last push time. ' +
    'A renamed repository is found under its old name too.',
  inputSchema: input({ owner: OWNER, repo: REPO }, ['owner', 'repo']),
  outputSchema: output(REPO_PROPS),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const response = await http.get<GhRepo>('/repos/{owner}/{repo}', { params: { ...args } });
    return repoDetail(response.body);
  },
});

export interface SearchIssuesArgs {
  readonly q: string;
  readonly sort?: string;
  readonly order?: 'asc' | 'desc';
  readonly per_page?: number;
  readonly page?: number;
}

/** GET /search/issues — docs.github.com/rest/search/search#search-issues-and-pull-requests */
export const searchIssues = defineTool<SearchIssuesArgs>({
  name: 'github_search_issues',
  title: 'Search GitHub issues and pull requests',
  description:
    'Searches issues and pull requests across the GitHub repositories the user can see, with GitHub search syntax: keywords plus qualifiers such as ' +
    '"repo:owner/name", "is:issue" or "is:pr", "is:open", "label:bug", "author:login", "assignee:login", "created:>2024-01-01". ' +
    'Example q: "repo:octocat/Hello-World is:issue is:open crash". GitHub returns at most 1000 results per search; when next_page is not null, call again with page set to it.',
  inputSchema: input(
    {
      q: { type: 'string', minLength: 1, maxLength: 1024, description: 'Keywords and qualifiers (the keywords at most 256 characters).' },
      sort: {
        type: 'string',
        enum: ['comments', 'reactions', 'reactions-+1', 'reactions--1', 'reactions-smile', 'reactions-thinking_face', 'reactions-heart', 'reactions-tada', 'interactions', 'created', 'updated'],
        description: 'What to sort by (default: best match).',
      },
      order: { type: 'string', enum: ['asc', 'desc'], description: 'Sort order when sort is set (default desc).' },
      per_page: PER_PAGE,
      page: { ...PAGE, maximum: 1000 },
    },
    ['q'],
  ),
  outputSchema: output({
    total_count: { type: 'integer' },
    incomplete_results: { type: 'boolean', description: 'True when GitHub stopped searching early (timeout); results may be missing.' },
    items: { type: 'array', items: SEARCH_ITEM },
    next_page: NEXT_PAGE,
  }),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const response = await http.get<{ total_count: number; incomplete_results: boolean; items: GhIssue[] }>('/search/issues', { query: { ...args } });
    const { total_count, incomplete_results, items } = response.body;
    return {
      total_count,
      incomplete_results,
      items: items.map((i) => ({ ...issueSummary(i), repository: repositoryOf(i) })),
      next_page: nextPageNumber(response) ?? null,
    };
  },
});
