import { defineNativeConnector } from '../native/native-connector.definition.js';
import { postMessage } from './chat.tools.js';
import { channelHistory, listChannels } from './conversations.tools.js';
import { searchMessages } from './search.tools.js';
import { slackAnswerError, slackAnswerRefused, slackErrorMessage } from './slack.schemas.js';
import { getUser } from './users.tools.js';

/**
 * The Slack Web API (api.slack.com/web): `https://slack.com/api/<method>`, the token as
 * `Authorization: Bearer` (a bot token xoxb-… or a user token xoxp-…). Slack answers
 * most failures with HTTP 200 and `{ok: false, error}`: an error all the same, and
 * `invalid_auth` / `token_expired` take the 401 path (refresh once). Rate limits are
 * HTTP 429 with `Retry-After` (api.slack.com/apis/rate-limits).
 */
export const slack = defineNativeConnector({
  id: 'slack',
  name: 'Slack',
  description: 'Slack messages, channels, search and users (Web API); post to channels and threads. GovSlack via settings.base_url (https://slack-gov.com/api).',
  auth_types: ['oauth2', 'bearer_token'],
  // api.slack.com/authentication/oauth-v2
  oauth: {
    // Bot scopes go in `scope`; search needs a user token, so its user scope is asked for
    // separately (the vault keeps query parameters already in the authorize URL). The bot
    // token is what the vault stores; search:read works with a bearer_token account holding
    // a user token (xoxp-…).
    authorize_url: 'https://slack.com/oauth/v2/authorize?user_scope=search%3Aread',
    token_url: 'https://slack.com/api/oauth.v2.access',
    revocation_url: 'https://slack.com/api/auth.revoke',
    scopes: ['chat:write', 'channels:read', 'channels:history', 'users:read'],
  },
  baseUrl: 'https://slack.com/api',
  http: {
    provider: 'Slack',
    headers: { Accept: 'application/json' },
    errorMessage: slackErrorMessage,
    answerError: slackAnswerError,
    answerRefused: slackAnswerRefused,
  },
  tools: [postMessage, listChannels, channelHistory, searchMessages, getUser],
});
