import { RESERVED_HEADERS, type AuthType, type StaticAuth } from '@vmcp/contracts';

export const DEFAULT_API_KEY_HEADER = 'X-API-Key';

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;
// Bytes a header value may hold; CR, LF and NUL would split or end the header.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The HTTP headers that carry a user's credential upstream, as the connection's auth type
 * says, and nothing else. The agent's session token is never among them: it never reaches
 * the executor. Errors name the problem, never the value.
 */
export function buildAuthHeaders(authType: AuthType, secret: StaticAuth | undefined, headerName?: string): Record<string, string> {
  switch (authType) {
    case 'none':
      return {};
    // An OAuth access token is a bearer token once the vault has it.
    case 'oauth2':
    case 'bearer_token':
      if (secret && 'token' in secret) return checked({ Authorization: `Bearer ${secret.token}` });
      break;
    case 'api_key':
      if (secret && 'api_key' in secret) return checked({ [headerName || DEFAULT_API_KEY_HEADER]: secret.api_key });
      break;
    case 'basic':
      if (secret && 'username' in secret) {
        return checked({ Authorization: `Basic ${Buffer.from(`${secret.username}:${secret.password}`, 'utf8').toString('base64')}` });
      }
      break;
    case 'custom_headers':
      if (secret && 'headers' in secret) return checked({ ...secret.headers });
      break;
  }
  throw new Error(`stored credential does not fit auth type ${authType}`);
}

/**
 * The vault validated the credential when it was stored, but a header that could
 * take over the transport's own headers, or smuggle another one, never leaves here.
 */
function checked(headers: Record<string, string>): Record<string, string> {
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) throw new Error('credential header name is not a valid HTTP header name');
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new Error(`credential may not set the reserved header ${name}`);
    if (!HEADER_VALUE.test(value)) throw new Error(`credential header ${name} holds characters a header cannot carry`);
  }
  return headers;
}

/**
 * Every string whose appearance in an upstream's text would reveal the credential: the
 * header values, and the raw parts they are built from.
 */
export function credentialStrings(secret: StaticAuth | undefined, headers: Record<string, string>): string[] {
  const out = new Set<string>(Object.values(headers));
  if (secret) {
    if ('token' in secret) out.add(secret.token);
    if ('api_key' in secret) out.add(secret.api_key);
    if ('password' in secret) out.add(secret.password);
    if ('headers' in secret) for (const v of Object.values(secret.headers)) out.add(v);
  }
  out.delete('');
  return [...out];
}
