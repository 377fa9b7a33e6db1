import { defaultErrorMessage } from '../http/provider-errors.js';
import { defineNativeConnector } from '../native/native-connector.definition.js';
import { createRecord, getRecord, query, updateRecord } from './records.tools.js';

/**
 * Salesforce's error body is an array: `[{message, errorCode, fields?}]`; the code and the
 * fields are what a model needs to fix its call. OAuth endpoints answer `{error, error_description}`.
 * developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
 */
export function salesforceErrorMessage(body: unknown): string | undefined {
  if (!Array.isArray(body)) return defaultErrorMessage(body);
  const parts = body.slice(0, 5).flatMap((e: unknown) => {
    const { message, errorCode, fields } = (e ?? {}) as { message?: unknown; errorCode?: unknown; fields?: unknown };
    const text = [errorCode, message].filter((x): x is string => typeof x === 'string' && x !== '').join(': ');
    const named = Array.isArray(fields) ? fields.filter((f): f is string => typeof f === 'string') : [];
    // The fields are named unless the message already names them ("Required fields are missing: [Name]").
    return text ? [named.some((f) => !text.includes(f)) ? `${text} (fields: ${named.join(', ')})` : text] : [];
  });
  return parts.length > 0 ? parts.join('; ') : undefined;
}

const INSTANCE_REQUIRED =
  "settings.base_url is required for connector salesforce: the org's instance URL, e.g. https://MyDomainName.my.salesforce.com (the instance_url of Salesforce's token response)";

/**
 * Salesforce REST API, one org. Every org has its own instance URL, which Salesforce's OAuth
 * token response carries as `instance_url`; vmcp keeps only the tokens, so the connection
 * names it in `settings.base_url` (required whatever the auth type). A sandbox or a My Domain
 * login sets its own endpoints in `settings.oauth` (test.salesforce.com, MyDomainName.my.salesforce.com).
 * developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/intro_oauth_and_connected_apps.htm
 */
export const salesforce = defineNativeConnector({
  id: 'salesforce',
  name: 'Salesforce',
  description: 'Salesforce records: SOQL query, get, create and update any object (REST API); the org\'s instance URL in settings.base_url.',
  auth_types: ['oauth2', 'bearer_token'],
  oauth: {
    authorize_url: 'https://login.salesforce.com/services/oauth2/authorize',
    token_url: 'https://login.salesforce.com/services/oauth2/token',
    revocation_url: 'https://login.salesforce.com/services/oauth2/revoke',
    // refresh_token: Salesforce issues one only when the scope asks for it.
    scopes: ['api', 'refresh_token'],
  },
  baseUrl: () => undefined,
  http: {
    provider: 'Salesforce',
    headers: { Accept: 'application/json' },
    errorMessage: salesforceErrorMessage,
  },
  tools: [query, getRecord, createRecord, updateRecord],
  validateSettings(settings, authType) {
    // OAuth accounts learn their instance from Salesforce's token answer (instance_url).
    if (!settings.base_url && authType !== 'oauth2') return INSTANCE_REQUIRED;
    // Paths (and nextRecordsUrl links) start at the instance's root.
    if (settings.base_url && URL.canParse(settings.base_url) && new URL(settings.base_url).pathname !== '/') return 'settings.base_url: the instance URL has no path, e.g. https://MyDomainName.my.salesforce.com';
    return undefined;
  },
});
