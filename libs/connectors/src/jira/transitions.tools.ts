import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import { input, ISSUE_ID_OR_KEY, output, PLAIN_TEXT, textToAdf, TRANSITION, transitionSummary, type JiraTransition } from './jira.schemas.js';

interface IssueArgs {
  readonly issue: string;
}

/** GET /rest/api/3/issue/{issueIdOrKey}/transitions — developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-transitions-get */
export const listTransitions = defineTool<IssueArgs>({
  name: 'jira_list_transitions',
  title: 'List the transitions of a Jira issue',
  description:
    'Lists the workflow transitions the connected user can perform on a Jira issue now, each with its id, its name (e.g. "Start progress", "Done") and the status it leads to. ' +
    'Call it before jira_transition_issue to find the transition id that leads to the wanted status.',
  inputSchema: input({ issue: ISSUE_ID_OR_KEY }, ['issue']),
  outputSchema: output({ transitions: { type: 'array', items: TRANSITION } }),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const response = await http.get<{ transitions?: readonly JiraTransition[] }>('/rest/api/3/issue/{issueIdOrKey}/transitions', { params: { issueIdOrKey: args.issue } });
    return { transitions: (response.body.transitions ?? []).map(transitionSummary) };
  },
});

export interface TransitionIssueArgs extends IssueArgs {
  readonly transition_id: string;
  readonly comment?: string;
}

/** POST /rest/api/3/issue/{issueIdOrKey}/transitions — developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-transitions-post */
export const transitionIssue = defineTool<TransitionIssueArgs>({
  name: 'jira_transition_issue',
  title: 'Move a Jira issue through its workflow',
  description:
    'Performs a workflow transition on a Jira issue, which changes its status (e.g. To Do → In Progress → Done), optionally adding a comment. ' +
    'transition_id must be one that jira_list_transitions returned for this issue just now; Jira refuses a transition that is not available from the current status, ' +
    'so repeating a call does not move the issue twice but fails. A transition with a screen may require fields this tool does not set.',
  inputSchema: input(
    {
      issue: ISSUE_ID_OR_KEY,
      transition_id: { type: 'string', pattern: '^[0-9]{1,10}$', description: 'The id of the transition, from jira_list_transitions.' },
      comment: PLAIN_TEXT('A comment to add with the transition', true),
    },
    ['issue', 'transition_id'],
  ),
  outputSchema: output({
    issue: { type: 'string', description: 'The issue, as given.' },
    transition_id: { type: 'string' },
    transitioned: { type: 'boolean', const: true },
  }),
  // It changes the issue's status (overwriting the old one) and a second call is refused or moves it again: not idempotent.
  annotations: { ...ANNOTATIONS.update, idempotentHint: false },
  async run(args, http) {
    const body = {
      transition: { id: args.transition_id },
      ...(args.comment ? { update: { comment: [{ add: { body: textToAdf(args.comment) } }] } } : {}),
    };
    await http.post('/rest/api/3/issue/{issueIdOrKey}/transitions', body, { params: { issueIdOrKey: args.issue } });
    return { issue: args.issue, transition_id: args.transition_id, transitioned: true };
  },
});
