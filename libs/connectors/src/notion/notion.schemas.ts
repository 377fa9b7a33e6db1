import { defaultErrorMessage } from '../http/provider-errors.js';
import { JSON_SCHEMA_2020_12, type JsonSchema } from '../native/native-connector.definition.js';

/**
 * Schema fragments, Notion's objects as the tools read them, and the compact result shapes
 * (developers.notion.com/reference). Pages come back with their title, parent and every
 * property as `{type, value}`: the value in plain JSON (text, number, option name, date
 * range, IDs), the type saying how to write it back in Notion's property-value format.
 */

// ---- input fragments ------------------------------------------------------------------

/** Notion IDs are UUIDs, accepted with or without dashes (as in a page's URL). */
export const NOTION_ID = {
  type: 'string',
  pattern: '^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$',
} as const;

export const START_CURSOR = {
  type: 'string',
  minLength: 1,
  maxLength: 256,
  description: 'To continue a listing: the next_cursor of the previous result. Leave out for the first page.',
} as const;

export const PAGE_SIZE = { type: 'integer', minimum: 1, maximum: 100, default: 100, description: 'Results per page, at most 100 (default 100).' } as const;

/** An input schema: 2020-12, closed, with these properties. */
export function input(properties: Record<string, JsonSchema>, required: readonly string[]): JsonSchema {
  return { $schema: JSON_SCHEMA_2020_12, type: 'object', properties, required, additionalProperties: false };
}

/** An output schema: 2020-12, with these properties, all present. */
export function output(properties: Record<string, JsonSchema>): JsonSchema {
  return { $schema: JSON_SCHEMA_2020_12, type: 'object', properties, required: Object.keys(properties) };
}

// ---- output fragments -----------------------------------------------------------------

const STR = { type: 'string' } as const;
const BOOL = { type: 'boolean' } as const;
const TIME = { type: 'string', format: 'date-time' } as const;
const obj = (properties: Record<string, JsonSchema>) => ({ type: 'object', properties, required: Object.keys(properties) });

export const NEXT_CURSOR = { type: ['string', 'null'], description: 'Pass as start_cursor to get the next page; null on the last page.' } as const;

const PARENT = obj({
  type: { type: 'string', description: 'page_id, database_id, block_id or workspace.' },
  id: { type: ['string', 'null'], description: 'The parent page, database or block; null for the workspace.' },
});

const COMMON_PROPS = {
  id: STR,
  url: { type: 'string', format: 'uri' },
  title: { ...STR, description: 'Plain text of the title ("" when untitled).' },
  parent: PARENT,
  archived: { ...BOOL, description: 'True when archived or in the trash.' },
  created_time: TIME,
  last_edited_time: TIME,
} satisfies Record<string, JsonSchema>;

export const PAGE_PROPS = {
  ...COMMON_PROPS,
  properties: {
    type: 'object',
    description:
      'Each property by name: its Notion type and its value in plain JSON (title/rich_text: text; select/status: option name; multi_select: names; ' +
      'date: {start, end}; people/relation: IDs; checkbox, number, url, email, phone_number as is; formula/rollup: the computed value).',
    additionalProperties: obj({ type: STR, value: {} }),
  },
} satisfies Record<string, JsonSchema>;

export const PAGE = obj(PAGE_PROPS);

export const SEARCH_RESULT = obj({ object: { type: 'string', enum: ['page', 'database'] }, ...COMMON_PROPS });

// ---- Notion's objects, as far as the tools read them ------------------------------------

export interface NotionRichText {
  readonly plain_text?: string;
}

export interface NotionParent {
  readonly type: string;
  readonly page_id?: string;
  readonly database_id?: string;
  readonly block_id?: string;
}

export interface NotionPropertyValue {
  readonly id?: string;
  readonly type: string;
  readonly [value: string]: unknown;
}

export interface NotionPage {
  readonly object: 'page';
  readonly id: string;
  readonly url: string;
  readonly parent: NotionParent;
  readonly archived?: boolean;
  readonly in_trash?: boolean;
  readonly created_time: string;
  readonly last_edited_time: string;
  readonly properties: Readonly<Record<string, NotionPropertyValue>>;
}

export interface NotionDatabase {
  readonly object: 'database';
  readonly id: string;
  readonly url: string;
  readonly parent: NotionParent;
  readonly title?: readonly NotionRichText[];
  readonly archived?: boolean;
  readonly in_trash?: boolean;
  readonly created_time: string;
  readonly last_edited_time: string;
}

/** The answer of every paginated endpoint (developers.notion.com/reference/intro#pagination). */
export interface NotionList<T> {
  readonly object: 'list';
  readonly results: readonly T[];
  readonly next_cursor: string | null;
  readonly has_more: boolean;
}

// ---- mapping ----------------------------------------------------------------------------

const plain = (rich: unknown) => (Array.isArray(rich) ? rich.map((r: NotionRichText) => r?.plain_text ?? '').join('') : '');

function parentOf(p: NotionParent | undefined) {
  if (!p) return { type: 'workspace', id: null };
  return { type: p.type, id: p.page_id ?? p.database_id ?? p.block_id ?? null };
}

function titleOf(properties: NotionPage['properties']): string {
  const title = Object.values(properties ?? {}).find((p) => p?.type === 'title');
  return title ? plain(title.title) : '';
}

const named = (v: unknown) => (v && typeof v === 'object' && 'name' in v ? ((v as { name?: string }).name ?? null) : null);
const ids = (v: unknown) => (Array.isArray(v) ? v.flatMap((x: { id?: unknown }) => (typeof x?.id === 'string' ? [x.id] : [])) : []);

/** A property value as plain JSON (see PAGE_PROPS.properties); a type the tools do not read is null. */
export function propertyValue(p: NotionPropertyValue): unknown {
  const v = p[p.type];
  switch (p.type) {
    case 'title':
    case 'rich_text':
      return plain(v);
    case 'number':
    case 'checkbox':
    case 'url':
    case 'email':
    case 'phone_number':
    case 'created_time':
    case 'last_edited_time':
      return v ?? null;
    case 'select':
    case 'status':
      return named(v);
    case 'multi_select':
      return Array.isArray(v) ? v.map(named).filter((n) => n !== null) : [];
    case 'date': {
      const d = v as { start?: string; end?: string | null } | null;
      return d ? { start: d.start ?? null, end: d.end ?? null } : null;
    }
    case 'people':
    case 'relation':
      return ids(v);
    case 'created_by':
    case 'last_edited_by':
      return (v as { id?: string } | null)?.id ?? null;
    case 'files':
      return Array.isArray(v) ? v.map(named).filter((n) => n !== null) : [];
    case 'unique_id': {
      const u = v as { prefix?: string | null; number?: number | null } | null;
      return u?.number === undefined || u.number === null ? null : u.prefix ? `${u.prefix}-${u.number}` : u.number;
    }
    case 'formula':
    case 'rollup': {
      const f = v as { type?: string; [k: string]: unknown } | null;
      if (!f?.type) return null;
      // A rollup of type array holds property values of its own.
      if (f.type === 'array' && Array.isArray(f.array)) return f.array.map((x: NotionPropertyValue) => propertyValue(x));
      return f[f.type] ?? null;
    }
    default:
      return null;
  }
}

export function pageDetail(p: NotionPage) {
  return {
    id: p.id,
    url: p.url,
    title: titleOf(p.properties),
    parent: parentOf(p.parent),
    archived: (p.archived ?? false) || (p.in_trash ?? false),
    created_time: p.created_time,
    last_edited_time: p.last_edited_time,
    properties: Object.fromEntries(Object.entries(p.properties ?? {}).map(([name, value]) => [name, { type: value.type, value: propertyValue(value) }])),
  };
}

export function searchResult(r: NotionPage | NotionDatabase) {
  return {
    object: r.object,
    id: r.id,
    url: r.url,
    title: r.object === 'database' ? plain(r.title) : titleOf(r.properties),
    parent: parentOf(r.parent),
    archived: (r.archived ?? false) || (r.in_trash ?? false),
    created_time: r.created_time,
    last_edited_time: r.last_edited_time,
  };
}

// ---- errors -----------------------------------------------------------------------------

/**
 * Notion's error body is `{object: "error", status, code, message}`
 * (developers.notion.com/reference/status-codes): the code (validation_error,
 * object_not_found, restricted_resource, …) tells a model what kind of fix is needed.
 */
export function notionErrorMessage(body: unknown): string | undefined {
  const b = (typeof body === 'object' && body !== null ? body : {}) as { object?: unknown; code?: unknown; message?: unknown };
  if (b.object === 'error' && typeof b.code === 'string' && typeof b.message === 'string' && b.message) return `${b.code}: ${b.message}`;
  return defaultErrorMessage(body);
}
