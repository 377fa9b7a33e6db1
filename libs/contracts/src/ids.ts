import { z } from 'zod';

/** Type prefixes of every opaque id (API.md). */
export const ID_PREFIXES = ['ten', 'key', 'conn', 'ca', 'cfg', 'tok', 'exe', 'evt', 'rot'] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// Random bytes are drawn from the CSPRNG in blocks: one call per id costs more than the id.
const pool = new Uint8Array(4096);
let poolAt = pool.length;

function randomByte(): number {
  if (poolAt >= pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  return pool[poolAt++] ?? 0;
}

/** A fresh id: prefix, underscore, 22 base62 characters (about 131 random bits). */
export function newId(prefix: IdPrefix): string {
  let out = `${prefix}_`;
  while (out.length < prefix.length + 23) {
    const b = randomByte();
    // 248 = 62 * 4: rejecting bytes at or above it keeps the distribution uniform.
    if (b < 248) out += ALPHABET[b % 62];
  }
  return out;
}

export function idSchema(prefix: IdPrefix) {
  return z.string().regex(new RegExp(`^${prefix}_[0-9A-Za-z]{8,40}$`), `must be an id starting with "${prefix}_"`);
}

export const TenantId = idSchema('ten');
export const ApiKeyId = idSchema('key');
export const ConnectionId = idSchema('conn');
export const AccountId = idSchema('ca');
export const ConfigId = idSchema('cfg');
export const TokenId = idSchema('tok');
export const ExecutionId = idSchema('exe');
/** A key-rotation job of the vault. */
export const KeyRotationId = idSchema('rot');
