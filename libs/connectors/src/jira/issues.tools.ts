import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import {
  ACCOUNT_ID,
  commentDetail,
  COMMENT_PROPS,
  DETAIL_FIELDS,
  input,
  ISSUE_ID_OR_KEY,
  ISSUE_PROPS,
  ISSUE_SUMMARY,
  issueDetail,
  issueSummary,
  output,
  PLAIN_TEXT,
  SUMMARY_FIELDS,
  textToAdf,
  type JiraComment,
  type JiraIssue,
} from './jira.schemas.js';

export interface SearchIssuesArgs {
  readonly jql: string;
  readonly max_results?: number;
  readonly next_page_token?: string;
}

interface SearchPage {
  readonly issues?: readonly JiraIssue[];
  readonly nextPageToken?: string;
  readonly isLast?: boolean;
}

/**
 * GET /rest/api/3/search/jql — developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get
 * The enhanced search: GET /rest/api/3/search (startAt/total) is deprecated and being removed
 * from Jira Cloud; this one pages with nextPageToken and returns only `id` unless `fields` names more.
 */
export const searchIssues = defineTool<SearchIssuesArgs>({
  name: 'jira_search_issues',
  title: 'Search Jira issues with JQL',
  description:
    'Searches Jira issues with a JQL query, e.g. `project = ED AND status != Done ORDER BY updated DESC` or `assignee = currentUser() AND resolution = Unresolved`. ' +
    'The query must be bounded by a restriction (a project, an assignee, a date such as `updated >= -30d`, …): Jira refuses a query that would match every issue. ' +
    'Returns one page of issue summaries (key, summary, status, type, priority, assignee, reporter, labels, dates) without descriptions or comments: use jira_get_issue for one issue in full. ' +
    'When next_page_token is not null, call again with the same jql and next_page_token set to it for more.',
  inputSchema: input(
    {
      jql: { type: 'string', minLength: 1, maxLength: 10000, description: 'The JQL query, with an ORDER BY clause where the order matters.' },
      max_results: { type: 'integer', minimum: 1, maximum: 100, default: 50, description: 'Issues per page, at most 100 (default 50).' },
      next_page_token: { type: 'string', minLength: 1, maxLength: 4096, description: 'The next_page_token of the previous result, to continue the same search.' },
    },
    ['jql'],
  ),
  outputSchema: output({
    issues: { type: 'array', items: ISSUE_SUMMARY },
    next_page_token: { type: ['string', 'null'], description: 'Pass it back to get the next page; null on the last page.' },
  }),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const response = await http.get<SearchPage>('/rest/api/3/search/jql', {
      query: { jql: args.jql, fields: SUMMARY_FIELDS.join(','), maxResults: args.max_results, nextPageToken: args.next_page_token },
    });
    const { issues = [], nextPageToken, isLast } = response.body;
    return { issues: issues.map(issueSummary), next_page_token: !isLast && nextPageToken ? nextPageToken : null };
  },
});

export interface IssueArgs {
  readonly issue: string;
}

/** GET /rest/api/3/issue/{issueIdOrKey} — developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-get */
export const getIssue = defineTool<IssueArgs>({
  name: 'jira_get_issue',
  title: 'Get a Jira issue',
  description:
    'Gets one Jira issue by key (e.g. "ED-24") or id, with its description and comments as plain text, status, type, priority, assignee, reporter, labels, resolution, due date and parent. ' +
    'To change its status, see jira_list_transitions.',
  inputSchema: input({ issue: ISSUE_ID_OR_KEY }, ['issue']),
  outputSchema: output(ISSUE_PROPS),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const response = await http.get<JiraIssue>('/rest/api/3/issue/{issueIdOrKey}', { params: { issueIdOrKey: args.issue }, query: { fields: DETAIL_FIELDS.join(',') } });
    return issueDetail(response.body);
  },
});

export interface CreateIssueArgs {
  readonly project_key: string;
  readonly issue_type: string;
  readonly summary: string;
  readonly description?: string;
  readonly labels?: readonly string[];
  readonly priority?: string;
  readonly assignee_account_id?: string;
  readonly parent?: string;
}

/** POST /rest/api/3/issue — developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post */
export const createIssue = defineTool<CreateIssueArgs>({
  name: 'jira_create_issue',
  title: 'Create a Jira issue',
  description:
    'Creates a Jira issue in a project, as the connected user. Each call creates another issue, so do not repeat it to retry. ' +
    'issue_type is the name of an issue type of the project (e.g. "Task", "Bug", "Story"; "Subtask" needs parent). The description is plain text. ' +
    'A project may require more fields than these, in which case Jira names them in the error. Returns the new issue\'s key and id.',
  inputSchema: input(
    {
      project_key: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,254}$', description: 'Key of the project, e.g. "ED".' },
      issue_type: { type: 'string', minLength: 1, maxLength: 255, description: 'Name of the issue type, e.g. "Task", "Bug", "Story".' },
      summary: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\r\\n]+$', description: 'One-line title of the issue.' },
      description: PLAIN_TEXT('The description'),
      labels: { type: 'array', items: { type: 'string', pattern: '^\\S{1,255}$' }, maxItems: 50, uniqueItems: true, description: 'Labels (no spaces).' },
      priority: { type: 'string', minLength: 1, maxLength: 255, description: 'Name of the priority, e.g. "High", where the project\'s screen offers it.' },
      assignee_account_id: { ...ACCOUNT_ID, description: 'Account id of the user to assign.' },
      parent: { ...ISSUE_ID_OR_KEY, description: 'Key of the parent: the epic of a story, or the issue of a sub-task.' },
    },
    ['project_key', 'issue_type', 'summary'],
  ),
  outputSchema: output({ id: { type: 'string' }, key: { type: 'string' }, self: { type: 'string', description: 'API URL of the new issue.' } }),
  annotations: ANNOTATIONS.create,
  async run(args, http) {
    const fields = {
      project: { key: args.project_key },
      issuetype: { name: args.issue_type },
      summary: args.summary,
      ...(args.description?.trim() ? { description: textToAdf(args.description) } : {}),
      ...(args.labels?.length ? { labels: args.labels } : {}),
      ...(args.priority ? { priority: { name: args.priority } } : {}),
      ...(args.assignee_account_id ? { assignee: { accountId: args.assignee_account_id } } : {}),
      ...(args.parent ? { parent: { key: args.parent } } : {}),
    };
    const response = await http.post<{ id: string; key: string; self: string }>('/rest/api/3/issue', { fields });
    const { id, key, self } = response.body;
    return { id, key, self };
  },
});

export interface AddCommentArgs extends IssueArgs {
  readonly body: string;
}

/** POST /rest/api/3/issue/{issueIdOrKey}/comment — developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/#api-rest-api-3-issue-issueidorkey-comment-post */
export const addComment = defineTool<AddCommentArgs>({
  name: 'jira_add_comment',
  title: 'Comment on a Jira issue',
  description:
    'Adds a comment to a Jira issue, as the connected user, visible to everyone who can see the issue. Each call posts another comment, so do not repeat it to retry. ' +
    'The body is plain text. Returns the comment with its id.',
  inputSchema: input({ issue: ISSUE_ID_OR_KEY, body: PLAIN_TEXT('The comment', true) }, ['issue', 'body']),
  outputSchema: output(COMMENT_PROPS),
  annotations: ANNOTATIONS.create,
  async run(args, http) {
    const response = await http.post<JiraComment>('/rest/api/3/issue/{issueIdOrKey}/comment', { body: textToAdf(args.body) }, { params: { issueIdOrKey: args.issue } });
    return commentDetail(response.body);
  },
});
