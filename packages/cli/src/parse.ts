import { usageError } from './errors.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `500ms`, `2s`, `15m`, `2h`, `1d`, or a sequence such as `1h30m`; milliseconds. */
export function parseDuration(text: string, flag = 'duration'): number {
  const s = text.trim();
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let end = 0;
  for (let m = part.exec(s); m; m = part.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    end = part.lastIndex;
  }
  if (!s || end !== s.length) throw usageError(`${flag}: expected a duration like 30s, 15m, 2h or 1d, got "${text}"`);
  return Math.round(total);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;

/**
 * A point in time for `--since` / `--until`: an RFC 3339 time (a bare date is midnight
 * UTC), or a duration meaning that long before `now`. Returned as RFC 3339 UTC.
 */
export function parseTime(text: string, now: number, flag: string): string {
  const s = text.trim();
  if (RFC3339.test(s)) {
    const t = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  } else if (/^\d/.test(s)) {
    try {
      return new Date(now - parseDuration(s, flag)).toISOString();
    } catch {
      // Fall through to the message that names both forms.
    }
  }
  throw usageError(`${flag}: expected an RFC 3339 time (2025-01-31T12:00:00Z) or a duration like 15m, 2h, 1d, got "${text}"`);
}

/** A tool's parameters: a JSON object. Never echoes the text back (it may hold secrets). */
export function parseParams(text: string, flag = '--params'): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw usageError(`${flag} is not valid JSON${at !== undefined ? ` (at character ${at})` : ''}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw usageError(`${flag} must be a JSON object, like '{"text": "hi"}'`);
  }
  return value as Record<string, unknown>;
}

/** A positive whole number option (`--limit`, `--expiry`). */
export function parsePositiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw usageError(`${flag}: expected a positive whole number, got "${text}"`);
  }
  return Number(text);
}

/** Commander's accumulator for a repeatable option. */
export const collect = (value: string, previous: readonly string[] = []): string[] => [...previous, value];

export type JsonObject = Record<string, unknown>;

/**
 * Connection settings from `--setting` pairs: `key=value` sets a string, `key:=json` sets
 * any JSON value (`timeout_ms:=5000`, `oauth.scopes:='["repo"]'`); dots nest
 * (`oauth.client_id=abc`). Applied in order over `base`.
 */
export function applySettings(base: JsonObject, pairs: readonly string[]): JsonObject {
  const out = structuredClone(base);
  for (const pair of pairs) {
    const m = /^(?<path>[A-Za-z0-9_.-]+?)(?<raw>:?)=(?<text>.*)$/s.exec(pair)?.groups;
    const keys = m?.path?.split('.') ?? [];
    if (!m || keys.some((k) => !k)) throw usageError(`--setting: expected key=value or key:=<json>, got "${pair.split('=')[0]}…"`);
    const { path, raw, text } = m;
    let value: unknown = text;
    if (raw) {
      try {
        value = JSON.parse(text);
      } catch {
        throw usageError(`--setting ${path}:= needs a JSON value`);
      }
    }
    const last = keys.pop() ?? '';
    let node = out;
    for (const k of keys) {
      const next = node[k];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[k] = {};
      node = node[k] as JsonObject;
    }
    node[last] = value;
  }
  return out;
}

/** `--settings-json`: a JSON object. */
export function parseSettingsJson(text: string): JsonObject {
  return parseParams(text, '--settings-json');
}

export interface ToolMapping {
  readonly connection_name: string;
  readonly tools: string[];
}

/**
 * `--tools` values, `<connection>:<tool>[,<tool>…]` or `<connection>:*`, into the API's
 * connection_tool_mappings; a connection named twice gets the union, in order.
 */
export function parseToolMappings(values: readonly string[]): ToolMapping[] {
  if (values.length === 0) throw usageError('--tools is required: --tools <connection>:<tool>[,<tool>…] (or <connection>:* for every tool)');
  const byConnection = new Map<string, string[]>();
  for (const v of values) {
    const i = v.indexOf(':');
    const connection = v.slice(0, i).trim();
    const tools = v
      .slice(i + 1)
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    if (i <= 0 || !connection || tools.length === 0) {
      throw usageError(`--tools: expected <connection>:<tool>[,<tool>…] or <connection>:*, got "${v}"`);
    }
    const list = byConnection.get(connection) ?? [];
    for (const t of tools) if (!list.includes(t)) list.push(t);
    byConnection.set(connection, list);
  }
  return [...byConnection].map(([connection_name, tools]) => ({ connection_name, tools }));
}
