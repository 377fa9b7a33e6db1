import type { FakeResponse, RecordedRequest } from './fake-provider.js';

/**
 * What Google APIs share in the fakes: the JSON error body
 * (`{error: {code, message, errors: [{message, domain, reason}], status}}`,
 * cloud.google.com/apis/design/errors) and the OAuth bearer check.
 */

const STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  410: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** A Google error answer. */
export function googleError(code: number, message: string, reason: string, extra: Record<string, string> = {}): FakeResponse {
  return { status: code, body: { error: { code, message, errors: [{ message, domain: 'global', reason, ...extra }], status: STATUS[code] ?? 'UNKNOWN' } } };
}

/** The answer to a missing or unknown access token, as Google sends it. */
export function googleUnauthenticated(): FakeResponse {
  const answer = googleError(
    401,
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    'authError',
    { location: 'Authorization', locationType: 'header' },
  );
  return { ...answer, headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' } };
}

/** The bearer token of a request, or undefined. */
export function bearerToken(r: RecordedRequest): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(r.headers.authorization ?? '')?.[1];
}

/** Refuses a request whose bearer token is not one of `tokens`. */
export function googleGate(tokens: ReadonlySet<string>) {
  return (r: RecordedRequest): FakeResponse | undefined => {
    const token = bearerToken(r);
    return token && tokens.has(token) ? undefined : googleUnauthenticated();
  };
}

/** An opaque-looking page token for an offset, and back (undefined when it is not one of ours). */
export function pageToken(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64url');
}

export function pageOffset(token: unknown): number | undefined {
  if (token === undefined) return 0;
  if (typeof token !== 'string') return undefined;
  const m = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : undefined;
}
