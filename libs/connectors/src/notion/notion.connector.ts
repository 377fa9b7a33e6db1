import { defineNativeConnector } from '../native/native-connector.definition.js';
import { queryDatabase } from './databases.tools.js';
import { notionErrorMessage } from './notion.schemas.js';
import { createPage, getPage } from './pages.tools.js';
import { search } from './search.tools.js';

/** The API version every request asks for (developers.notion.com/reference/versioning). */
export const NOTION_VERSION = '2022-06-28';

/**
 * The Notion API (developers.notion.com/reference): `https://api.notion.com/v1`, the token
 * as `Authorization: Bearer` (a public integration's OAuth token, or an internal
 * integration's secret) and the `Notion-Version` header on every request. Rate limits are
 * HTTP 429 `rate_limited` with `Retry-After`.
 */
export const notion = defineNativeConnector({
  id: 'notion',
  name: 'Notion',
  description: 'Notion pages and databases: search, read and create pages, query databases (API version 2022-06-28).',
  auth_types: ['oauth2', 'bearer_token'],
  // developers.notion.com/docs/authorization: the token endpoint takes the client's
  // credentials as HTTP Basic (the default client_secret_basic); access is granted per
  // page by the user, so there are no scopes; owner=user is required on the authorize URL.
  oauth: {
    authorize_url: 'https://api.notion.com/v1/oauth/authorize?owner=user',
    token_url: 'https://api.notion.com/v1/oauth/token',
    scopes: [],
  },
  baseUrl: 'https://api.notion.com/v1',
  http: {
    provider: 'Notion',
    headers: { 'Notion-Version': NOTION_VERSION, Accept: 'application/json' },
    errorMessage: notionErrorMessage,
  },
  tools: [search, getPage, createPage, queryDatabase],
});
