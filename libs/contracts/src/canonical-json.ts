/** Deeper values than this are refused: a hostile document must not exhaust the stack. */
export const CANONICAL_JSON_MAX_DEPTH = 256;

/**
 * The one text form of a JSON value that vmcp hashes: object keys sorted (by UTF-16
 * code units), no whitespace, numbers and strings as JSON.stringify writes them, keys
 * with `undefined` values left out (RFC 8785 for the values vmcp produces). Payload
 * digests and the audit hash chain are SHA-256 over this text, so anyone holding the
 * same data can recompute them.
 */
export function canonicalJson(value: unknown): string {
  return write(value, 0);
}

function write(value: unknown, depth: number): string {
  if (depth > CANONICAL_JSON_MAX_DEPTH) throw new RangeError(`JSON nested deeper than ${CANONICAL_JSON_MAX_DEPTH} levels`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      // JSON has no NaN or Infinity; JSON.stringify writes them as null, and so do we.
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : write(v, depth + 1))).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(obj).sort()) {
        const v = obj[key];
        if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
        parts.push(`${JSON.stringify(key)}:${write(v, depth + 1)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      // undefined, functions, symbols, bigints: not JSON.
      throw new TypeError(`not a JSON value: ${typeof value}`);
  }
}
