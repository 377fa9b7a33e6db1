import type { AuthType, StaticAuth } from '@vmcp/contracts';

export const DEFAULT_API_KEY_HEADER = 'X-API-Key';

/**
 * The HTTP headers that carry a user's credential upstream, as the connection's auth type
 * says. The agent's session token is never among them: it never reaches the executor.
 */
export function buildAuthHeaders(authType: AuthType, secret: StaticAuth | undefined, headerName?: string): Record<string, string> {
  switch (authType) {
    case 'none':
    case 'oauth2':
      return {};
    case 'bearer_token':
      if (secret && 'token' in secret) return { Authorization: `Bearer ${secret.token}` };
      break;
    case 'api_key':
      if (secret && 'api_key' in secret) return { [headerName ?? DEFAULT_API_KEY_HEADER]: secret.api_key };
      break;
    case 'basic':
      if (secret && 'username' in secret) {
        return { Authorization: `Basic ${Buffer.from(`${secret.username}:${secret.password}`, 'utf8').toString('base64')}` };
      }
      break;
    case 'custom_headers':
      if (secret && 'headers' in secret) return { ...secret.headers };
      break;
  }
  throw new Error(`stored credential does not fit auth type ${authType}`);
}
