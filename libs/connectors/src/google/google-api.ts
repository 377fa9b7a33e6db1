import { defaultErrorMessage } from '../http/provider-errors.js';
import { JSON_SCHEMA_2020_12, type JsonSchema } from '../native/native-connector.definition.js';

/**
 * What the Google connectors (gmail, gcal) share: Google's OAuth endpoints, its error body,
 * and the schema helpers of their tools.
 */

/**
 * Google's OAuth 2.0 endpoints for web server apps
 * (developers.google.com/identity/protocols/oauth2/web-server). `access_type=offline` makes
 * Google issue a refresh token, and `prompt=consent` issues one again when a user links a
 * second time; without them the vault could not renew the one-hour access token.
 */
export const GOOGLE_OAUTH = {
  authorize_url: 'https://accounts.google.com/o/oauth2/v2/auth?access_type=offline&prompt=consent',
  token_url: 'https://oauth2.googleapis.com/token',
  revocation_url: 'https://oauth2.googleapis.com/revoke',
} as const;

/**
 * Google's JSON error body: `{error: {code, message, status, errors: [{message, domain, reason}]}}`
 * (cloud.google.com/apis/design/errors). The top message, plus any detail that says more.
 */
export function googleErrorMessage(body: unknown): string | undefined {
  const message = defaultErrorMessage(body);
  const errors = (body as { error?: { errors?: unknown } } | null)?.error?.errors;
  if (!Array.isArray(errors)) return message;
  const details = errors
    .slice(0, 5)
    .map((e: unknown) => (e as { message?: unknown } | null)?.message)
    .filter((m): m is string => typeof m === 'string' && m !== '' && m !== message);
  return details.length === 0 ? message : [message, ...details].filter(Boolean).join('; ');
}

/** An input schema: 2020-12, closed, with these properties. */
export function input(properties: Record<string, JsonSchema>, required: readonly string[]): JsonSchema {
  return { $schema: JSON_SCHEMA_2020_12, type: 'object', properties, required, additionalProperties: false };
}

/** An output schema: 2020-12, with these properties, all present. */
export function output(properties: Record<string, JsonSchema>): JsonSchema {
  return { $schema: JSON_SCHEMA_2020_12, type: 'object', properties, required: Object.keys(properties) };
}

/** A nested object of the output, all properties present. */
export function obj(properties: Record<string, JsonSchema>): JsonSchema {
  return { type: 'object', properties, required: Object.keys(properties) };
}

export const STR = { type: 'string' } as const;
export const NSTR = { type: ['string', 'null'] } as const;
export const INT = { type: 'integer' } as const;
export const BOOL = { type: 'boolean' } as const;
export const STRINGS = { type: 'array', items: STR } as const;

export const PAGE_TOKEN = {
  type: 'string',
  minLength: 1,
  maxLength: 1024,
  description: 'To continue a listing: the next_page_token of the previous result, with the same other arguments.',
} as const;

export const NEXT_PAGE_TOKEN = { type: ['string', 'null'], description: 'Pass as page_token to get the next page; null on the last page.' } as const;
