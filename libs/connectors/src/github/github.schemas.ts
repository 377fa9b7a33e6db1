import { JSON_SCHEMA_2020_12, type JsonSchema } from '../native/native-connector.definition.js';

/**
 * Schema fragments and result shapes shared by the GitHub tools. Results are a compact,
 * stable subset of GitHub's REST objects (docs.github.com/rest), so the output schemas
 * stay exact and a model reads what matters rather than every URL GitHub returns.
 */

// ---- input fragments ------------------------------------------------------------------

export const OWNER = {
  type: 'string',
  description: 'Login of the user or organization that owns the repository, e.g. "octocat". Not case-sensitive.',
  pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$',
  maxLength: 100,
} as const;

export const REPO = {
  type: 'string',
  description: 'Repository name without the .git extension, e.g. "Hello-World". Not case-sensitive.',
  pattern: '^(?!\\.{1,2}$)[A-Za-z0-9._-]{1,100}$',
  maxLength: 100,
} as const;

export const LOGIN = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$', maxLength: 100 } as const;

export const NUMBER = (what: string) => ({ type: 'integer', minimum: 1, maximum: 2147483647, description: `The ${what} number, as shown after # on GitHub.` }) as const;

export const PER_PAGE = { type: 'integer', minimum: 1, maximum: 100, default: 30, description: 'Results per page, at most 100 (default 30).' } as const;

export const PAGE = {
  type: 'integer',
  minimum: 1,
  maximum: 100000,
  default: 1,
  description: 'Page to return, from 1. To continue a listing, pass the next_page of the previous result.',
} as const;

export const DIRECTION = { type: 'string', enum: ['asc', 'desc'], description: 'Sort order (default desc).' } as const;

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
const BOOL = { type: 'boolean' } as const;
const TIME = { type: 'string', format: 'date-time' } as const;
const NTIME = { type: ['string', 'null'], format: 'date-time' } as const;
const URI = { type: 'string', format: 'uri' } as const;
const STRINGS = { type: 'array', items: STR } as const;
const obj = (properties: Record<string, JsonSchema>) => ({ type: 'object', properties, required: Object.keys(properties) });

export const NEXT_PAGE = { type: ['integer', 'null'], minimum: 1, description: 'The page to ask for next; null on the last page.' } as const;

const ISSUE_SUMMARY_PROPS = {
  number: INT,
  title: STR,
  state: { type: 'string', enum: ['open', 'closed'] },
  user: { ...NSTR, description: 'Login of the author.' },
  labels: STRINGS,
  assignees: STRINGS,
  comments: INT,
  is_pull_request: BOOL,
  html_url: URI,
  created_at: TIME,
  updated_at: TIME,
  closed_at: NTIME,
} satisfies Record<string, JsonSchema>;

export const ISSUE_SUMMARY = obj(ISSUE_SUMMARY_PROPS);

export const ISSUE_PROPS = {
  ...ISSUE_SUMMARY_PROPS,
  state_reason: { ...NSTR, description: 'completed, not_planned, reopened or duplicate; null while open.' },
  body: NSTR,
  milestone: { ...NSTR, description: 'Title of the milestone.' },
  locked: BOOL,
} satisfies Record<string, JsonSchema>;

export const SEARCH_ITEM = obj({ ...ISSUE_SUMMARY_PROPS, repository: { ...STR, description: 'owner/name' } });

const PULL_SUMMARY_PROPS = {
  number: INT,
  title: STR,
  state: { type: 'string', enum: ['open', 'closed'] },
  draft: BOOL,
  user: NSTR,
  head: obj({ ref: STR, sha: STR, label: NSTR }),
  base: obj({ ref: STR, sha: STR }),
  html_url: URI,
  created_at: TIME,
  updated_at: TIME,
  closed_at: NTIME,
  merged_at: NTIME,
} satisfies Record<string, JsonSchema>;

export const PULL_SUMMARY = obj(PULL_SUMMARY_PROPS);

export const PULL_PROPS = {
  ...PULL_SUMMARY_PROPS,
  body: NSTR,
  merged: BOOL,
  mergeable: { type: ['boolean', 'null'], description: 'null while GitHub is still computing it.' },
  mergeable_state: STR,
  labels: STRINGS,
  assignees: STRINGS,
  requested_reviewers: STRINGS,
  comments: INT,
  review_comments: INT,
  commits: INT,
  additions: INT,
  deletions: INT,
  changed_files: INT,
} satisfies Record<string, JsonSchema>;

export const REPO_PROPS = {
  full_name: STR,
  owner: STR,
  name: STR,
  description: NSTR,
  private: BOOL,
  visibility: STR,
  fork: BOOL,
  archived: BOOL,
  default_branch: STR,
  language: NSTR,
  topics: STRINGS,
  license: { ...NSTR, description: 'SPDX id of the license.' },
  stargazers_count: INT,
  forks_count: INT,
  open_issues_count: { ...INT, description: 'Open issues and pull requests.' },
  html_url: URI,
  created_at: TIME,
  updated_at: TIME,
  pushed_at: NTIME,
} satisfies Record<string, JsonSchema>;

export const COMMENT_PROPS = {
  id: INT,
  body: STR,
  user: NSTR,
  html_url: URI,
  created_at: TIME,
  updated_at: TIME,
} satisfies Record<string, JsonSchema>;

// ---- GitHub's objects, as far as the tools read them ------------------------------------

interface GhUser {
  readonly login?: string;
}
type GhLabel = string | { readonly name?: string };

export interface GhIssue {
  readonly number: number;
  readonly title: string;
  readonly state: string;
  readonly state_reason?: string | null;
  readonly body?: string | null;
  readonly user?: GhUser | null;
  readonly labels?: readonly GhLabel[];
  readonly assignees?: readonly GhUser[] | null;
  readonly milestone?: { readonly title?: string } | null;
  readonly locked?: boolean;
  readonly comments?: number;
  readonly pull_request?: unknown;
  readonly html_url: string;
  readonly repository_url?: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly closed_at?: string | null;
}

export interface GhPull {
  readonly number: number;
  readonly title: string;
  readonly state: string;
  readonly draft?: boolean;
  readonly body?: string | null;
  readonly user?: GhUser | null;
  readonly head?: { readonly ref?: string; readonly sha?: string; readonly label?: string | null };
  readonly base?: { readonly ref?: string; readonly sha?: string };
  readonly html_url: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly closed_at?: string | null;
  readonly merged_at?: string | null;
  readonly merged?: boolean;
  readonly mergeable?: boolean | null;
  readonly mergeable_state?: string;
  readonly labels?: readonly GhLabel[];
  readonly assignees?: readonly GhUser[] | null;
  readonly requested_reviewers?: readonly GhUser[] | null;
  readonly comments?: number;
  readonly review_comments?: number;
  readonly commits?: number;
  readonly additions?: number;
  readonly deletions?: number;
  readonly changed_files?: number;
}

export interface GhRepo {
  readonly name: string;
  readonly full_name: string;
  readonly owner?: GhUser | null;
  readonly description?: string | null;
  readonly private?: boolean;
  readonly visibility?: string;
  readonly fork?: boolean;
  readonly archived?: boolean;
  readonly default_branch?: string;
  readonly language?: string | null;
  readonly topics?: readonly string[];
  readonly license?: { readonly spdx_id?: string | null } | null;
  readonly stargazers_count?: number;
  readonly forks_count?: number;
  readonly open_issues_count?: number;
  readonly html_url: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly pushed_at?: string | null;
}

export interface GhComment {
  readonly id: number;
  readonly body?: string;
  readonly user?: GhUser | null;
  readonly html_url: string;
  readonly created_at: string;
  readonly updated_at: string;
}

// ---- mapping ----------------------------------------------------------------------------

const login = (u: GhUser | null | undefined) => u?.login ?? null;
const logins = (us: readonly GhUser[] | null | undefined) => (us ?? []).flatMap((u) => (u.login ? [u.login] : []));
const labelNames = (ls: readonly GhLabel[] | undefined) => (ls ?? []).flatMap((l) => (typeof l === 'string' ? [l] : l.name ? [l.name] : []));

export function issueSummary(i: GhIssue) {
  return {
    number: i.number,
    title: i.title,
    state: i.state,
    user: login(i.user),
    labels: labelNames(i.labels),
    assignees: logins(i.assignees),
    comments: i.comments ?? 0,
    is_pull_request: i.pull_request !== undefined && i.pull_request !== null,
    html_url: i.html_url,
    created_at: i.created_at,
    updated_at: i.updated_at,
    closed_at: i.closed_at ?? null,
  };
}

export function issueDetail(i: GhIssue) {
  return {
    ...issueSummary(i),
    state_reason: i.state_reason ?? null,
    body: i.body ?? null,
    milestone: i.milestone?.title ?? null,
    locked: i.locked ?? false,
  };
}

/** `https://api.github.com/repos/octocat/Hello-World` → `octocat/Hello-World`. */
export function repositoryOf(i: GhIssue): string {
  const parts = (i.repository_url ?? '').split('/');
  return parts.length >= 2 ? `${parts[parts.length - 2]}/${parts[parts.length - 1]}` : '';
}

export function pullSummary(p: GhPull) {
  return {
    number: p.number,
    title: p.title,
    state: p.state,
    draft: p.draft ?? false,
    user: login(p.user),
    head: { ref: p.head?.ref ?? '', sha: p.head?.sha ?? '', label: p.head?.label ?? null },
    base: { ref: p.base?.ref ?? '', sha: p.base?.sha ?? '' },
    html_url: p.html_url,
    created_at: p.created_at,
    updated_at: p.updated_at,
    closed_at: p.closed_at ?? null,
    merged_at: p.merged_at ?? null,
  };
}

export function pullDetail(p: GhPull) {
  return {
    ...pullSummary(p),
    body: p.body ?? null,
    merged: p.merged ?? false,
    mergeable: p.mergeable ?? null,
    mergeable_state: p.mergeable_state ?? 'unknown',
    labels: labelNames(p.labels),
    assignees: logins(p.assignees),
    requested_reviewers: logins(p.requested_reviewers),
    comments: p.comments ?? 0,
    review_comments: p.review_comments ?? 0,
    commits: p.commits ?? 0,
    additions: p.additions ?? 0,
    deletions: p.deletions ?? 0,
    changed_files: p.changed_files ?? 0,
  };
}

export function repoDetail(r: GhRepo) {
  return {
    full_name: r.full_name,
    owner: r.owner?.login ?? r.full_name.split('/')[0] ?? '',
    name: r.name,
    description: r.description ?? null,
    private: r.private ?? false,
    visibility: r.visibility ?? (r.private ? 'private' : 'public'),
    fork: r.fork ?? false,
    archived: r.archived ?? false,
    default_branch: r.default_branch ?? '',
    language: r.language ?? null,
    topics: [...(r.topics ?? [])],
    license: r.license?.spdx_id ?? null,
    stargazers_count: r.stargazers_count ?? 0,
    forks_count: r.forks_count ?? 0,
    open_issues_count: r.open_issues_count ?? 0,
    html_url: r.html_url,
    created_at: r.created_at,
    updated_at: r.updated_at,
    pushed_at: r.pushed_at ?? null,
  };
}

export function commentDetail(c: GhComment) {
  return { id: c.id, body: c.body ?? '', user: login(c.user), html_url: c.html_url, created_at: c.created_at, updated_at: c.updated_at };
}
