/**
 * Label values of metrics. Every series is kept in memory by each service and by
 * Prometheus, so a label may only take values from a small, known set: error codes,
 * subjects, route templates, connector ids, tool names (bounded by the configs). Never an
 * identifier, id, token or tool argument (DESIGN.md invariant 1): values that look like
 * one are replaced, and each open-ended label is capped at a number of distinct values.
 */

/** What a label holds when its value was refused or its cap is reached. */
export const OVERFLOW_LABEL = 'other';

// Label values are short names or route templates: letters, digits and a few separators.
const NAME = /^[A-Za-z0-9/][A-Za-z0-9_.:/-]{0,95}$/;
// vmcp's opaque ids (libs/contracts ids.ts): a type prefix, an underscore, random base62.
const OPAQUE_ID = /^(ten|key|conn|ca|cfg|tok|exe|evt|rot)_([0-9A-Za-z]{8,})$/;
// A run of random-looking characters: a token, a key, a uuid, a hash.
const RANDOM_RUN = /[0-9A-Za-z]{20,}/;
const HEX_RUN = /[0-9a-fA-F]{12,}/;

/**
 * Whether a value may be written as a label: a short name, not an id, not a JWT, and
 * without a long random-looking run. A net under the rule that labels come only from
 * bounded sources, not a licence to pass anything else.
 */
export function isSafeLabelValue(value: string): boolean {
  if (!NAME.test(value) || value.startsWith('eyJ')) return false;
  const id = OPAQUE_ID.exec(value)?.[2];
  if (id && (/\d/.test(id) || (/[a-z]/.test(id) && /[A-Z]/.test(id)))) return false;
  for (const run of value.match(RANDOM_RUN) ?? []) if (/\d/.test(run) && /[A-Za-z]/.test(run)) return false;
  for (const run of value.match(HEX_RUN) ?? []) if (/\d/.test(run) && /[a-fA-F]/.test(run)) return false;
  return true;
}

/**
 * One open-ended label (tool, connector, subject, error code): the first `max` distinct
 * safe values are written as they are, anything after that or unsafe becomes "other".
 * The set only grows, so a series never changes its label once it exists.
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();

  constructor(
    readonly max: number,
    private readonly missing = 'none',
  ) {}

  value(raw: string | null | undefined): string {
    if (raw === null || raw === undefined || raw === '') return this.missing;
    if (this.seen.has(raw)) return raw;
    if (this.seen.size >= this.max || !isSafeLabelValue(raw)) return OVERFLOW_LABEL;
    this.seen.add(raw);
    return raw;
  }

  /** Distinct values admitted so far (never more than max). */
  get size(): number {
    return this.seen.size;
  }
}

/** A label with a closed set of values; anything else becomes "other". */
export function oneOf<const T extends string>(value: string, allowed: readonly T[]): T | typeof OVERFLOW_LABEL {
  return (allowed as readonly string[]).includes(value) ? (value as T) : OVERFLOW_LABEL;
}

/**
 * The stable code of an error for a label: VmcpError's `code` (read by shape, since the
 * telemetry lib does not depend on the contracts), or INTERNAL for anything else.
 */
export function errorCodeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z_]{1,40}$/.test(code) ? code : 'INTERNAL';
}
