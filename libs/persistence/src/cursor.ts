import { VmcpError } from '@vmcp/contracts';

/** Opaque page token for lists ordered by (a sort key, an id): both values of the last row. */
export function encodeCursor(sortKey: string, id: string): string {
  return Buffer.from(JSON.stringify([sortKey, id]), 'utf8').toString('base64url');
}

/** The values a page token carries; a token that is not one of ours is INVALID_ARGUMENT. */
export function decodeCursor(token: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) return value as [string, string];
  } catch {
    // fall through
  }
  throw new VmcpError('INVALID_ARGUMENT', 'page_token: malformed');
}
