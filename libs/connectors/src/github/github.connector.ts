import { defaultErrorMessage } from '../http/provider-errors.js';
import { defineNativeConnector } from '../native/native-connector.definition.js';
import { createIssue, createIssueComment, getIssue, listIssues } from './issues.tools.js';
import { getPullRequest, listPullRequests } from './pulls.tools.js';
import { getRepo, searchIssues } from './repos.tools.js';

/** The REST API version every request asks for (docs.github.com/rest/about-the-rest-api/api-versions). */
export const GITHUB_API_VERSION = '2022-11-28';

/**
 * GitHub's error body: `{message, errors?: [{resource, field, code, message?}], documentation_url, status}`.
 * A 422 names each invalid field, which is what a model needs to fix its call.
 */
export function githubErrorMessage(body: unknown): string | undefined {
  const message = defaultErrorMessage(body);
  const errors = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return message;
  const details = errors.slice(0, 5).map((e: unknown) => {
    if (typeof e === 'string') return e;
    const { field, code, message: m, value } = (e ?? {}) as { field?: unknown; code?: unknown; message?: unknown; value?: unknown };
    if (typeof m === 'string' && m) return m;
    const shown = typeof value === 'string' || typeof value === 'number' ? ` (${String(value).slice(0, 50)})` : '';
    return [field, code].filter((x) => typeof x === 'string').join(' ') + shown;
  });
  return `${message ?? 'Validation Failed'}: ${details.join('; ')}`;
}

/**
 * Primary rate limit: 403 or 429 with `x-ratelimit-remaining: 0`, until `x-ratelimit-reset`
 * (epoch seconds). Secondary limits send `Retry-After`, which the client reads itself.
 * docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
 */
export function githubRateLimitWait(status: number, headers: Headers, now: number): number | undefined {
  if ((status !== 403 && status !== 429) || headers.get('x-ratelimit-remaining') !== '0') return undefined;
  const reset = Number(headers.get('x-ratelimit-reset'));
  return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now) : undefined;
}

/**
 * GitHub REST v3. api.github.com by default; GitHub Enterprise Server through the
 * connection's `settings.base_url` (`https://HOST/api/v3`). OAuth apps use GitHub's
 * endpoints (an Enterprise connection sets its own in `settings.oauth`); personal access
 * tokens (classic or fine-grained) are bearer tokens.
 */
export const github = defineNativeConnector({
  id: 'github',
  name: 'GitHub',
  description: 'GitHub issues, pull requests, repositories and search (REST API v3); GitHub Enterprise Server via settings.base_url.',
  auth_types: ['oauth2', 'bearer_token'],
  oauth: {
    authorize_url: 'https://github.com/login/oauth/authorize',
    token_url: 'https://github.com/login/oauth/access_token',
    scopes: ['repo'],
  },
  baseUrl: 'https://api.github.com',
  http: {
    provider: 'GitHub',
    headers: {
      Accept: 'application/vnd.github+json',
      'X-GitHub-Api-Version': GITHUB_API_VERSION,
      // GitHub refuses requests without one.
      'User-Agent': 'vmcp',
    },
    errorMessage: githubErrorMessage,
    rateLimitWait: githubRateLimitWait,
  },
  tools: [listIssues, getIssue, createIssue, createIssueComment, listPullRequests, getPullRequest, getRepo, searchIssues],
});
