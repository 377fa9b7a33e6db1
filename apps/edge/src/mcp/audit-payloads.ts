import { createHash } from 'node:crypto';
import { audit, canonicalJson } from '@vmcp/contracts';

/**
 * Keys whose values never reach the audit trail, matched case-insensitively with `-` and
 * `_` ignored, anywhere in the document (`X-Api-Key`, `client_secret`, `refreshToken`, …).
 */
const SECRET_KEY = /pass(word|wd|phrase)|secret|token|apikey|authoriz|cookie|credential|privatekey|accesskey|sessionid|bearer|signature|jwt/;
/** A whole value that is a credential whatever its key: a Basic authorization header. */
const SECRET_VALUE = /^basic\s+[A-Za-z0-9+/]{8,}={0,2}$/i;
/** Credentials inside any text (an upstream echoing a header, a pasted key): cut out, the rest kept. */
const SECRETS_IN_TEXT: ReadonlyArray<[RegExp, string]> = [
  [/\b(bearer)\s+[A-Za-z0-9._~+/-]+=*/gi, '$1 [REDACTED]'],
  [/\beyJ[\w-]+\.[\w-]+\.[\w-]+/g, '[REDACTED]'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[REDACTED]'],
];
export const REDACTED = '[REDACTED]';
/** Captured payloads deeper than this are cut there; the digest still covers the whole value. */
const MAX_CAPTURE_DEPTH = 64;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase().replace(/[-_]/g, ''));
}

/** A copy of a JSON value with secret-looking values replaced; the input is never changed. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return SECRET_VALUE.test(value) ? REDACTED : SECRETS_IN_TEXT.reduce((text, [pattern, by]) => text.replace(pattern, by), value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_CAPTURE_DEPTH) return '[TOO DEEP]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = isSecretKey(k) ? REDACTED : redact(v, depth + 1);
  return out;
}

/** Size in bytes and SHA-256 of a payload's canonical JSON; nothing when it is not JSON. */
export function digest(value: unknown): { size: number; sha256: string } | undefined {
  try {
    const bytes = Buffer.from(canonicalJson(value), 'utf8');
    return { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  } catch {
    return undefined;
  }
}

/** The redacted payload, or a marker with the start of its JSON when over the cap. */
export function capture(value: unknown): unknown {
  const redacted = redact(value);
  let text: string;
  try {
    text = canonicalJson(redacted);
  } catch {
    return { vmcp_truncated: true, size: null, preview: '' };
  }
  const size = Buffer.byteLength(text, 'utf8');
  if (size <= audit.AUDIT_CAPTURE_MAX_BYTES) return redacted;
  const preview = Buffer.from(text, 'utf8').subarray(0, audit.AUDIT_CAPTURE_MAX_BYTES).toString('utf8').replace(/\uFFFD+$/, '');
  return { vmcp_truncated: true, size, preview };
}

/** The arguments' fields of an audit event. */
export function argumentsFields(args: unknown, capturePayloads: boolean) {
  const d = digest(args);
  return {
    ...(d ? { arguments_size: d.size, arguments_sha256: d.sha256 } : {}),
    ...(capturePayloads ? { arguments: capture(args) } : {}),
  };
}

/** The result's fields of a `finished` event. */
export function resultFields(result: unknown, capturePayloads: boolean) {
  const d = digest(result);
  return {
    ...(d ? { result_size: d.size, result_sha256: d.sha256 } : {}),
    ...(capturePayloads ? { result: capture(result) } : {}),
  };
}
