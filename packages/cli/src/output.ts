import type { CliIo } from './io.js';

/** `--json`: the API's reply, as it came, for scripts (jq). */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One compact JSON line (NDJSON), for streams such as `logs tail --json`. */
export function printJsonLine(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}

export type Cell = string | number | boolean | null | undefined;

/** A value for a table cell or a field: `-` for nothing. */
export function cell(v: Cell): string {
  if (v === null || v === undefined || v === '') return '-';
  return String(v);
}

/** Columns padded to their widest cell, upper-case headers, two spaces apart. */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => r.map(cell))];
  const widths = headers.map((_, i) => Math.max(...text.map((r) => (r[i] ?? '').length)));
  return text.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

/** A table, or `No <what>.` when there is nothing to show. */
export function printTable(io: CliIo, what: string, headers: readonly string[], rows: readonly (readonly Cell[])[]): void {
  io.stdout.write(rows.length === 0 ? `No ${what}.\n` : formatTable(headers, rows));
}

/** `label: value` lines with the values aligned. */
export function formatFields(fields: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(...fields.map(([k]) => k.length)) + 1;
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width)} ${cell(v)}`).join('\n') + '\n';
}

export function printFields(io: CliIo, fields: readonly (readonly [string, Cell])[]): void {
  io.stdout.write(formatFields(fields));
}

/** The first line of a description, cut to `max` characters. */
export function short(text: string | null | undefined, max = 60): string {
  const line = (text ?? '').split('\n')[0]?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
