import { JSON_SCHEMA_2020_12, type JsonSchema } from '../native/native-connector.definition.js';

/**
 * Schema fragments, Jira's objects and result mappers shared by the Jira tools. Results are
 * a compact, stable subset of Jira Cloud REST v3 objects
 * (developer.atlassian.com/cloud/jira/platform/rest/v3), with rich text (Atlassian
 * Document Format) read out as plain text.
 */

// ---- input fragments ------------------------------------------------------------------

export const ISSUE_ID_OR_KEY = {
  type: 'string',
  description: 'The issue key (e.g. "ED-24") or its numeric id (e.g. "10002").',
  pattern: '^(?:[A-Za-z][A-Za-z0-9_]*-[1-9][0-9]{0,9}|[1-9][0-9]{0,17})$',
  maxLength: 255,
} as const;

export const ACCOUNT_ID = {
  type: 'string',
  description: 'An Atlassian account id, e.g. "5b10a2844c20165700ede21g" (as returned in assignee.account_id).',
  pattern: '^[A-Za-z0-9:_-]{1,128}$',
} as const;

/** Plain text sent as an Atlassian Document Format body; blank lines separate paragraphs. */
export const PLAIN_TEXT = (what: string, nonBlank = false) =>
  ({
    type: 'string',
    ...(nonBlank ? { minLength: 1, pattern: '\\S' } : {}),
    maxLength: 32767,
    description: `${what}, as plain text: a blank line starts a new paragraph, a single newline is a line break. Markup is not interpreted.`,
  }) as const;

/** An input schema: 2020-12, closed, with these properties. */
export function input(properties: Record<string, JsonSchema>, required: readonly string[]): JsonSchema {
  return { $schema: JSON_SCHEMA_2020_12, type: 'object', properties, required, additionalProperties: false };
}

/** An output schema: 2020-12, with these properties, all present. */
export function output(properties: Record<string, JsonSchema>): JsonSchema {
  return { $schema: JSON_SCHEMA_2020_12, type: 'object', properties, required: Object.keys(properties) };
}

// ---- output fragments -----------------------------------------------------------------

const STR = { type: 'string' } as const;
const NSTR = { type: ['string', 'null'] } as const;
const INT = { type: 'integer' } as const;
// Jira writes times as 2024-01-15T10:22:31.123+0000 (no colon in the offset): not RFC 3339 date-time.
const JIRA_TIME = { type: 'string', description: 'Jira timestamp, e.g. 2024-01-15T10:22:31.123+0000.' } as const;
const obj = (properties: Record<string, JsonSchema>) => ({ type: 'object', properties, required: Object.keys(properties) });
const USER = { type: ['object', 'null'], properties: { account_id: STR, display_name: STR }, required: ['account_id', 'display_name'] } as const;

const ISSUE_SUMMARY_PROPS = {
  id: STR,
  key: STR,
  summary: STR,
  status: NSTR,
  status_category: { ...NSTR, description: 'new (to do), indeterminate (in progress) or done.' },
  issue_type: NSTR,
  priority: NSTR,
  assignee: USER,
  reporter: USER,
  project: { ...NSTR, description: 'Project key.' },
  labels: { type: 'array', items: STR },
  created: JIRA_TIME,
  updated: JIRA_TIME,
} satisfies Record<string, JsonSchema>;

export const ISSUE_SUMMARY = obj(ISSUE_SUMMARY_PROPS);

export const COMMENT_PROPS = {
  id: STR,
  author: { ...NSTR, description: 'Display name of the author.' },
  body: { ...STR, description: 'The comment as plain text.' },
  created: JIRA_TIME,
  updated: JIRA_TIME,
} satisfies Record<string, JsonSchema>;

export const ISSUE_PROPS = {
  ...ISSUE_SUMMARY_PROPS,
  description: { ...NSTR, description: 'The description as plain text; null when empty.' },
  resolution: NSTR,
  due_date: { ...NSTR, description: 'YYYY-MM-DD' },
  parent: { ...NSTR, description: 'Key of the parent issue (epic or, for a sub-task, its issue).' },
  comments: { type: 'array', items: obj(COMMENT_PROPS), description: 'The comments Jira returns with the issue, oldest first.' },
  comment_total: { ...INT, description: 'How many comments the issue has in all.' },
} satisfies Record<string, JsonSchema>;

export const TRANSITION = obj({
  id: STR,
  name: STR,
  to_status: STR,
  to_status_category: NSTR,
  has_screen: { type: 'boolean', description: 'The transition has a screen in Jira: it may require fields this tool does not set.' },
});

// ---- Jira's objects, as far as the tools read them ------------------------------------

/** An Atlassian Document Format node (developer.atlassian.com/cloud/jira/platform/apis/document/structure). */
export interface AdfNode {
  readonly type: string;
  readonly text?: string;
  readonly attrs?: Readonly<Record<string, unknown>>;
  readonly content?: readonly AdfNode[];
  readonly version?: number;
}

interface JiraUser {
  readonly accountId?: string;
  readonly displayName?: string;
}

interface Named {
  readonly name?: string;
}

export interface JiraComment {
  readonly id: string;
  readonly author?: JiraUser | null;
  readonly body?: AdfNode | string | null;
  readonly created?: string;
  readonly updated?: string;
}

export interface JiraIssue {
  readonly id: string;
  readonly key: string;
  readonly self?: string;
  readonly fields?: {
    readonly summary?: string;
    readonly status?: (Named & { readonly statusCategory?: { readonly key?: string } }) | null;
    readonly issuetype?: Named | null;
    readonly priority?: Named | null;
    readonly assignee?: JiraUser | null;
    readonly reporter?: JiraUser | null;
    readonly project?: { readonly key?: string } | null;
    readonly labels?: readonly string[];
    readonly created?: string;
    readonly updated?: string;
    readonly description?: AdfNode | string | null;
    readonly resolution?: Named | null;
    readonly duedate?: string | null;
    readonly parent?: { readonly key?: string } | null;
    readonly comment?: { readonly comments?: readonly JiraComment[]; readonly total?: number } | null;
  };
}

export interface JiraTransition {
  readonly id: string;
  readonly name: string;
  readonly hasScreen?: boolean;
  readonly to?: (Named & { readonly statusCategory?: { readonly key?: string } }) | null;
}

/** The fields a summary shows: the enhanced search returns only `id` unless told. */
export const SUMMARY_FIELDS = ['summary', 'status', 'issuetype', 'priority', 'assignee', 'reporter', 'project', 'labels', 'created', 'updated'] as const;
export const DETAIL_FIELDS = [...SUMMARY_FIELDS, 'description', 'resolution', 'duedate', 'parent', 'comment'] as const;

// ---- Atlassian Document Format ----------------------------------------------------------

/**
 * Plain text as the smallest valid ADF document: one paragraph per block of lines
 * separated by a blank line, a hardBreak per single newline. Text nodes are never empty.
 */
export function textToAdf(text: string): AdfNode {
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((p) => p.split('\n').filter((line) => line.trim() !== ''))
    .filter((lines) => lines.length > 0);
  return {
    type: 'doc',
    version: 1,
    content: paragraphs.map((lines) => ({
      type: 'paragraph',
      content: lines.flatMap((line, i): AdfNode[] => (i === 0 ? [{ type: 'text', text: line }] : [{ type: 'hardBreak' }, { type: 'text', text: line }])),
    })),
  };
}

const INLINE_CONTAINERS = new Set(['paragraph', 'heading', 'codeBlock']);

/** An ADF document read out as plain text: blocks on their own lines, list items with a marker, mentions and links as their text. */
export function adfToText(node: AdfNode | string | null | undefined): string {
  if (node === null || node === undefined) return '';
  if (typeof node === 'string') return node;
  return block(node).replace(/\n{3,}/g, '\n\n').trim();
}

function block(node: AdfNode): string {
  const children = node.content ?? [];
  switch (node.type) {
    case 'doc':
      return children.map(block).join('\n\n');
    case 'bulletList':
      return children.map((item) => `- ${block(item)}`).join('\n');
    case 'orderedList': {
      const start = typeof node.attrs?.order === 'number' ? node.attrs.order : 1;
      return children.map((item, i) => `${start + i}. ${block(item)}`).join('\n');
    }
    case 'tableRow':
      return children.map(block).join(' | ');
    case 'rule':
      return '---';
    default:
      if (INLINE_CONTAINERS.has(node.type) || children.every((c) => !c.content || c.type === 'text')) return children.map(inline).join('');
      return children.map(block).join('\n');
  }
}

function inline(node: AdfNode): string {
  const attr = (name: string) => (typeof node.attrs?.[name] === 'string' ? (node.attrs[name] as string) : undefined);
  switch (node.type) {
    case 'text':
      return node.text ?? '';
    case 'hardBreak':
      return '\n';
    case 'mention':
      return attr('text') ?? `@${attr('id') ?? ''}`;
    case 'emoji':
      return attr('text') ?? attr('shortName') ?? '';
    case 'inlineCard':
    case 'blockCard':
      return attr('url') ?? '';
    case 'status':
      return attr('text') ?? '';
    case 'date': {
      const ts = Number(attr('timestamp'));
      return Number.isFinite(ts) ? new Date(ts).toISOString().slice(0, 10) : '';
    }
    default:
      return node.content ? block(node) : '';
  }
}

// ---- mapping ----------------------------------------------------------------------------

const user = (u: JiraUser | null | undefined) => (u?.accountId ? { account_id: u.accountId, display_name: u.displayName ?? '' } : null);

export function issueSummary(i: JiraIssue) {
  const f = i.fields ?? {};
  return {
    id: i.id,
    key: i.key,
    summary: f.summary ?? '',
    status: f.status?.name ?? null,
    status_category: f.status?.statusCategory?.key ?? null,
    issue_type: f.issuetype?.name ?? null,
    priority: f.priority?.name ?? null,
    assignee: user(f.assignee),
    reporter: user(f.reporter),
    project: f.project?.key ?? null,
    labels: [...(f.labels ?? [])],
    created: f.created ?? '',
    updated: f.updated ?? '',
  };
}

export function commentDetail(c: JiraComment) {
  return { id: c.id, author: c.author?.displayName ?? null, body: adfToText(c.body), created: c.created ?? '', updated: c.updated ?? c.created ?? '' };
}

export function issueDetail(i: JiraIssue) {
  const f = i.fields ?? {};
  const comments = f.comment?.comments ?? [];
  return {
    ...issueSummary(i),
    description: adfToText(f.description) || null,
    resolution: f.resolution?.name ?? null,
    due_date: f.duedate ?? null,
    parent: f.parent?.key ?? null,
    comments: comments.map(commentDetail),
    comment_total: f.comment?.total ?? comments.length,
  };
}

export function transitionSummary(t: JiraTransition) {
  return { id: t.id, name: t.name, to_status: t.to?.name ?? '', to_status_category: t.to?.statusCategory?.key ?? null, has_screen: t.hasScreen ?? false };
}
