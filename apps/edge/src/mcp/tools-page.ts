import { createHash } from 'node:crypto';

/** Longer cursors are refused unread: ours are about 30 characters. */
const MAX_CURSOR_LENGTH = 128;
const CURSOR_TEXT = /^v1\.(0|[1-9]\d{0,8})\.([A-Za-z0-9_-]{16})$/;

export class InvalidCursor extends Error {
  override name = 'InvalidCursor';
}

export interface ToolsPage<T> {
  readonly tools: T[];
  readonly nextCursor?: string;
}

/** Names in order: what an offset into the list means. Definitions may change without moving it. */
function fingerprintOf(tools: readonly { name: string }[]): string {
  const hash = createHash('sha256');
  for (const t of tools) hash.update(t.name).update('\n');
  return hash.digest('base64url').slice(0, 16);
}

/**
 * One page of a user's tool list. The cursor is opaque to clients: base64url of the offset
 * and a fingerprint of the list it was cut from. When the list has changed since (a
 * mapping, an account, an upstream), the fingerprint no longer matches and the walk
 * starts again from the first page of the new list instead of skipping or repeating tools
 * in the middle. A cursor that is not one of ours is InvalidCursor (-32602).
 */
export function pageOf<T extends { name: string }>(tools: readonly T[], cursor: string | undefined, pageSize: number): ToolsPage<T> {
  const fingerprint = fingerprintOf(tools);
  let offset = 0;
  if (cursor !== undefined) {
    const at = decodeCursor(cursor);
    if (at.fingerprint === fingerprint) {
      // The same list: an offset past its end was never handed out.
      if (at.offset >= tools.length) throw new InvalidCursor('invalid cursor');
      offset = at.offset;
    }
  }
  const end = offset + pageSize;
  const page = tools.slice(offset, end);
  return end < tools.length ? { tools: page, nextCursor: encodeCursor(end, fingerprint) } : { tools: page };
}

function encodeCursor(offset: number, fingerprint: string): string {
  return Buffer.from(`v1.${offset}.${fingerprint}`).toString('base64url');
}

function decodeCursor(cursor: string): { offset: number; fingerprint: string } {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursor('invalid cursor');
  const [, offset, fingerprint] = CURSOR_TEXT.exec(Buffer.from(cursor, 'base64url').toString('latin1')) ?? [];
  if (offset === undefined || fingerprint === undefined) throw new InvalidCursor('invalid cursor');
  return { offset: Number(offset), fingerprint };
}
