import { defaultErrorMessage } from '../http/provider-errors.js';
import { defineNativeConnector } from '../native/native-connector.definition.js';
import { addComment, createIssue, getIssue, searchIssues } from './issues.tools.js';
import { listTransitions, transitionIssue } from './transitions.tools.js';

/**
 * Jira's error body: `{errorMessages: [...], errors: {field: message}}`; a 400 on create
 * names each field, which is what a model needs to fix its call. Atlassian's API gateway
 * answers `{code, message}` instead (a scope mismatch, say).
 * developer.atlassian.com/cloud/jira/platform/rest/v3/intro/#status-codes
 */
export function jiraErrorMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return defaultErrorMessage(body);
  const { errorMessages, errors } = body as { errorMessages?: unknown; errors?: unknown };
  const parts: string[] = [];
  if (Array.isArray(errorMessages)) parts.push(...errorMessages.filter((m): m is string => typeof m === 'string' && m !== ''));
  if (typeof errors === 'object' && errors !== null && !Array.isArray(errors)) {
    for (const [field, message] of Object.entries(errors)) if (typeof message === 'string') parts.push(`${field}: ${message}`);
  }
  return parts.length > 0 ? parts.join('; ') : defaultErrorMessage(body);
}

/**
 * Jira Cloud sends `Retry-After` with its 429s (read by the client); where it does not,
 * `X-RateLimit-Reset` holds the ISO 8601 time the window resets.
 * developer.atlassian.com/cloud/jira/platform/rate-limiting/
 */
export function jiraRateLimitWait(status: number, headers: Headers, now: number): number | undefined {
  if (status !== 429 && status !== 503) return undefined;
  const reset = Date.parse(headers.get('x-ratelimit-reset') ?? '');
  return Number.isFinite(reset) ? Math.max(0, reset - now) : undefined;
}

const SITE_REQUIRED =
  'settings.base_url is required for connector jira: the site, e.g. https://your-domain.atlassian.net, or https://api.atlassian.com/ex/jira/{cloudId} for OAuth 2.0';

/**
 * Jira Cloud REST API v3 on one site. Every site has its own host, so `settings.base_url` is
 * required: `https://your-domain.atlassian.net` for an API token (basic: account email +
 * token) or a bearer token, and `https://api.atlassian.com/ex/jira/{cloudId}` for OAuth 2.0
 * (3LO), whose tokens the site host does not accept.
 * developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/
 */
export const jira = defineNativeConnector({
  id: 'jira',
  name: 'Jira Cloud',
  description: 'Jira Cloud issues: JQL search, get, create, comment and workflow transitions (REST API v3); the site in settings.base_url.',
  auth_types: ['basic', 'bearer_token', 'oauth2'],
  oauth: {
    // Atlassian requires audience=api.atlassian.com and asks for prompt=consent; the vault keeps these parameters.
    authorize_url: 'https://auth.atlassian.com/authorize?audience=api.atlassian.com&prompt=consent',
    token_url: 'https://auth.atlassian.com/oauth/token',
    // offline_access: Atlassian issues a refresh token only when asked for it.
    scopes: ['read:jira-work', 'write:jira-work', 'offline_access'],
  },
  baseUrl: () => undefined,
  http: {
    provider: 'Jira',
    headers: { Accept: 'application/json' },
    errorMessage: jiraErrorMessage,
    rateLimitWait: jiraRateLimitWait,
  },
  tools: [searchIssues, getIssue, createIssue, addComment, listTransitions, transitionIssue],
  validateSettings(settings, authType) {
    if (!settings.base_url) return SITE_REQUIRED;
    if (authType === 'oauth2' && URL.canParse(settings.base_url) && new URL(settings.base_url).hostname.endsWith('.atlassian.net')) {
      return 'settings.base_url: OAuth 2.0 tokens are accepted only through https://api.atlassian.com/ex/jira/{cloudId}, not the site host';
    }
    return undefined;
  },
});
