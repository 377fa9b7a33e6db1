import { startFakeProvider, type FakeProvider, type FakeRequest, type FakeResponse, type RecordedRequest } from './fake-provider.js';

/**
 * A local stand-in for the Notion API (developers.notion.com/reference) at `/v1`,
 * reproducing the documented requests and answers of the endpoints the notion connector
 * uses: bearer tokens (401 `unauthorized`), the required `Notion-Version` header (400
 * `missing_version`), `{object: "error", status, code, message}` error bodies, list
 * answers with `next_cursor`/`has_more` and `start_cursor`/`page_size` in the body, page
 * and database objects with typed property values, and pages created under a page or in a
 * database (values checked against the database's schema).
 */
export interface FakeNotion extends FakeProvider {
  /** Tokens accepted as `Authorization: Bearer …`; change it to revoke one. */
  readonly tokens: Set<string>;
  /** Pages by ID (created pages are added; `reset` restores the seed data). */
  readonly pages: Map<string, NotionPageRecord>;
  /** The tokens seen on requests, in order. */
  tokensSeen(): string[];
}

export interface FakeNotionOptions {
  /** Accepted tokens (default: one, `ntn_fixture_token_0001`). */
  readonly tokens?: readonly string[];
}

export interface NotionPageRecord {
  id: string;
  parent: { type: 'page_id'; page_id: string } | { type: 'database_id'; database_id: string } | { type: 'workspace'; workspace: true };
  /** Property values in Notion's answer format, by property name. */
  properties: Record<string, Record<string, unknown>>;
  /** Blocks of the page's body, as sent. */
  children: unknown[];
  created_time: string;
  last_edited_time: string;
}

const BOT = 'd40e767c-d7af-4b18-a86d-55c61f1e39a4';
export const NOTION_TASKS_DATABASE_ID = 'd9824bdc-8445-4327-be8b-5b47500af6ce';
export const NOTION_PROJECTS_PAGE_ID = '59833787-2cf9-4fdf-8782-e53db20768a5';

type Option = { id: string; name: string; color: string };
interface Column {
  id: string;
  type: 'title' | 'status' | 'select' | 'checkbox' | 'date' | 'multi_select' | 'number' | 'rich_text';
  options?: Option[];
}

function schema(): Record<string, Column> {
  return {
    Name: { id: 'title', type: 'title' },
    Status: {
      id: '%5EOE%40',
      type: 'status',
      options: [
        { id: '8c4a056e-6709-4dd1-ba58-d34d9480855a', name: 'Not started', color: 'default' },
        { id: '5925ba22-0126-4b58-90c7-b8bbb2c3c895', name: 'In progress', color: 'blue' },
        { id: '6b0b5a6e-ef2b-4e5d-8f1d-b6a1d0e5a0c1', name: 'Done', color: 'green' },
      ],
    },
    Priority: {
      id: '%3DXjZ',
      type: 'select',
      options: [
        { id: 'f96d0d0a-5564-4a20-ab15-5f040d49759e', name: 'High', color: 'red' },
        { id: '2a5c6f4e-6a6d-4b1e-9a50-3f1c2d7e8b9a', name: 'Low', color: 'gray' },
      ],
    },
    Done: { id: 'BBla', type: 'checkbox' },
    Due: { id: 'M%3BBw', type: 'date' },
    Tags: { id: 'flsb', type: 'multi_select', options: [{ id: 'a5d2d1c4-3b1e-4f5a-9c8d-7e6f5a4b3c2d', name: 'bug', color: 'red' }, { id: 'b6e3e2d5-4c2f-4a6b-8d9e-8f7a6b5c4d3e', name: 'planning', color: 'purple' }] },
    Estimate: { id: 'nbr1', type: 'number' },
  };
}

function richText(content: string) {
  return { type: 'text', text: { content, link: null }, annotations: { bold: false, italic: false, strikethrough: false, underline: false, code: false, color: 'default' }, plain_text: content, href: null };
}

const plainOf = (rich: unknown) => (Array.isArray(rich) ? rich.map((r: { plain_text?: string }) => r.plain_text ?? '').join('') : '');
const compact = (id: string) => id.replace(/-/g, '').toLowerCase();
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function seed(columns: Record<string, Column>): Map<string, NotionPageRecord> {
  const opt = (col: string, name: string) => columns[col]!.options!.find((o) => o.name === name)!;
  const row = (id: string, name: string, status: string, priority: string | null, done: boolean, due: string | null, tags: string[], edited: string): NotionPageRecord => ({
    id,
    parent: { type: 'database_id', database_id: NOTION_TASKS_DATABASE_ID },
    properties: {
      Name: { id: 'title', type: 'title', title: [richText(name)] },
      Status: { id: columns.Status!.id, type: 'status', status: opt('Status', status) },
      Priority: { id: columns.Priority!.id, type: 'select', select: priority ? opt('Priority', priority) : null },
      Done: { id: columns.Done!.id, type: 'checkbox', checkbox: done },
      Due: { id: columns.Due!.id, type: 'date', date: due ? { start: due, end: null, time_zone: null } : null },
      Tags: { id: columns.Tags!.id, type: 'multi_select', multi_select: tags.map((t) => opt('Tags', t)) },
      Estimate: { id: columns.Estimate!.id, type: 'number', number: null },
    },
    children: [],
    created_time: '2024-05-01T09:00:00.000Z',
    last_edited_time: edited,
  });
  const pages: NotionPageRecord[] = [
    {
      id: NOTION_PROJECTS_PAGE_ID,
      parent: { type: 'workspace', workspace: true },
      properties: { title: { id: 'title', type: 'title', title: [richText('Projects')] } },
      children: [],
      created_time: '2024-04-30T08:00:00.000Z',
      last_edited_time: '2024-04-30T08:00:00.000Z',
    },
    row('b55c9c91-384d-452b-81db-d1ef79372b75', 'Write launch plan', 'In progress', 'High', false, '2024-06-01', ['planning'], '2024-05-03T10:00:00.000Z'),
    row('a1d8501e-1ac1-43e9-a6bd-ea9fe6c8822b', 'Fix login bug', 'Done', 'High', true, '2024-05-20', ['bug'], '2024-05-04T10:00:00.000Z'),
    row('c2c3e8f0-4a57-4f44-9c56-7b0d1b7a0d11', 'Update docs', 'Not started', 'Low', false, null, [], '2024-05-02T10:00:00.000Z'),
    {
      id: '7f1b3c5e-2d4a-4b6c-8e9f-0a1b2c3d4e5f',
      parent: { type: 'page_id', page_id: NOTION_PROJECTS_PAGE_ID },
      properties: { title: { id: 'title', type: 'title', title: [richText('Meeting notes')] } },
      children: [],
      created_time: '2024-05-05T09:00:00.000Z',
      last_edited_time: '2024-05-05T09:30:00.000Z',
    },
  ];
  return new Map(pages.map((p) => [p.id, p]));
}

export async function startFakeNotion(options: FakeNotionOptions = {}): Promise<FakeNotion> {
  const tokens = new Set(options.tokens ?? ['ntn_fixture_token_0001']);
  let columns = schema();
  const pages = seed(columns);
  let idCounter = 0;

  const requestId = () => `fake-${String(++idCounter).padStart(4, '0')}`;
  const error = (status: number, code: string, message: string): FakeResponse => ({ status, body: { object: 'error', status, code, message, request_id: requestId() } });
  const invalid = (message: string) => error(400, 'validation_error', message);
  const tokenOf = (r: RecordedRequest) => /^Bearer\s+(.+)$/i.exec(r.headers.authorization ?? '')?.[1];
  const user = { object: 'user', id: BOT };
  const urlOf = (title: string, id: string) => `https://www.notion.so/${title.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}${title ? '-' : ''}${compact(id)}`;
  const find = (id: string) => [...pages.values()].find((p) => compact(p.id) === compact(id));
  const isDatabase = (id: string) => compact(id) === compact(NOTION_TASKS_DATABASE_ID);

  const titleOf = (p: NotionPageRecord) => plainOf(Object.values(p.properties).find((v) => v.type === 'title')?.title);
  const pageJson = (p: NotionPageRecord) => ({
    object: 'page',
    id: p.id,
    created_time: p.created_time,
    last_edited_time: p.last_edited_time,
    created_by: user,
    last_edited_by: user,
    cover: null,
    icon: null,
    parent: p.parent,
    archived: false,
    in_trash: false,
    properties: p.properties,
    url: urlOf(titleOf(p), p.id),
    public_url: null,
  });
  const databaseJson = () => ({
    object: 'database',
    id: NOTION_TASKS_DATABASE_ID,
    cover: null,
    icon: { type: 'emoji', emoji: '✅' },
    created_time: '2024-04-30T08:10:00.000Z',
    created_by: user,
    last_edited_by: user,
    last_edited_time: '2024-05-01T08:00:00.000Z',
    title: [richText('Tasks')],
    description: [],
    is_inline: false,
    properties: Object.fromEntries(
      Object.entries(columns).map(([name, c]) => [name, { id: c.id, name, type: c.type, [c.type]: c.options ? { options: c.options } : c.type === 'number' ? { format: 'number' } : {} }]),
    ),
    parent: { type: 'page_id', page_id: NOTION_PROJECTS_PAGE_ID },
    url: `https://www.notion.so/${compact(NOTION_TASKS_DATABASE_ID)}`,
    public_url: null,
    archived: false,
    in_trash: false,
  });

  /** One page of `items`, from `start_cursor` (an item's ID), as Notion's list object. */
  const list = (items: Array<{ id: string }>, body: Record<string, unknown>): FakeResponse => {
    const size = body.page_size === undefined ? 100 : Number(body.page_size);
    if (!Number.isInteger(size) || size < 1 || size > 100) return invalid(`body failed validation: body.page_size should be ≤ \`100\`, instead was \`${String(body.page_size)}\`.`);
    let start = 0;
    if (body.start_cursor !== undefined) {
      start = items.findIndex((i) => i.id === body.start_cursor);
      if (start < 0) return invalid(`start_cursor provided is invalid: ${String(body.start_cursor)}`);
    }
    const slice = items.slice(start, start + size);
    const next = items[start + size];
    return { status: 200, body: { object: 'list', results: slice, next_cursor: next ? next.id : null, has_more: next !== undefined, type: 'page_or_database', page_or_database: {}, request_id: requestId() } };
  };

  /** POST /v1/search — developers.notion.com/reference/post-search */
  const search = (r: FakeRequest): FakeResponse => {
    const b = (r.body ?? {}) as { query?: unknown; filter?: { value?: unknown; property?: unknown }; sort?: { direction?: unknown; timestamp?: unknown }; start_cursor?: unknown; page_size?: unknown };
    if (b.filter && (b.filter.property !== 'object' || (b.filter.value !== 'page' && b.filter.value !== 'database'))) {
      return invalid('body failed validation: body.filter.value should be `"page"` or `"database"`, instead was `' + JSON.stringify(b.filter.value) + '`.');
    }
    const q = typeof b.query === 'string' ? b.query.toLowerCase() : '';
    let results: Array<{ id: string; object: string; last_edited_time: string; title: string; json: unknown }> = [
      ...[...pages.values()].map((p) => ({ id: p.id, object: 'page', last_edited_time: p.last_edited_time, title: titleOf(p), json: pageJson(p) })),
      { id: NOTION_TASKS_DATABASE_ID, object: 'database', last_edited_time: databaseJson().last_edited_time, title: 'Tasks', json: databaseJson() },
    ];
    results = results.filter((x) => (!b.filter || x.object === b.filter.value) && x.title.toLowerCase().includes(q));
    if (b.sort) results.sort((x, y) => (b.sort!.direction === 'ascending' ? 1 : -1) * x.last_edited_time.localeCompare(y.last_edited_time));
    const answer = list(results, b as Record<string, unknown>);
    if (answer.status !== 200) return answer;
    const body = answer.body as { results: typeof results };
    return { ...answer, body: { ...body, results: body.results.map((x) => x.json) } };
  };

  /** GET /v1/pages/{page_id} — developers.notion.com/reference/retrieve-a-page */
  const getPage = (r: FakeRequest): FakeResponse => {
    const id = r.params.id ?? '';
    if (!UUID.test(id)) return invalid(`path failed validation: path.page_id should be a valid uuid, instead was \`"${id}"\`.`);
    const p = find(id);
    return p ? { status: 200, body: pageJson(p) } : error(404, 'object_not_found', `Could not find page with ID: ${id}. Make sure the relevant pages and databases are shared with your integration.`);
  };

  /** A property value as written in a request, converted to the answer format; a string is Notion's validation message. */
  const convert = (name: string, column: Column, value: Record<string, unknown>): Record<string, unknown> | string => {
    if (!(column.type in value)) return `${name} is expected to be ${column.type}.`;
    const v = value[column.type];
    const base = { id: column.id, type: column.type };
    switch (column.type) {
      case 'title':
      case 'rich_text':
        if (!Array.isArray(v)) return `${name} is expected to be ${column.type}.`;
        return { ...base, [column.type]: v.map((t: { text?: { content?: string } }) => richText(t.text?.content ?? '')) };
      case 'checkbox':
        return typeof v === 'boolean' ? { ...base, checkbox: v } : `${name} is expected to be checkbox.`;
      case 'number':
        return typeof v === 'number' || v === null ? { ...base, number: v } : `${name} is expected to be number.`;
      case 'date': {
        const d = v as { start?: unknown; end?: unknown } | null;
        if (d === null) return { ...base, date: null };
        return typeof d?.start === 'string' ? { ...base, date: { start: d.start, end: typeof d.end === 'string' ? d.end : null, time_zone: null } } : `${name} is expected to be date.`;
      }
      case 'status': {
        const option = column.options!.find((o) => o.name === (v as { name?: unknown } | null)?.name);
        return option ? { ...base, status: option } : `Invalid status option. Status option "${String((v as { name?: unknown } | null)?.name)}" does not exist".`;
      }
      case 'select': {
        if (v === null) return { ...base, select: null };
        const wanted = (v as { name?: unknown }).name;
        if (typeof wanted !== 'string') return `${name} is expected to be select.`;
        // Notion adds an option it does not know yet.
        let option = column.options!.find((o) => o.name === wanted);
        if (!option) column.options!.push((option = { id: `opt-${++idCounter}`, name: wanted, color: 'default' }));
        return { ...base, select: option };
      }
      case 'multi_select': {
        if (!Array.isArray(v)) return `${name} is expected to be multi_select.`;
        return {
          ...base,
          multi_select: v.map((x: { name?: string }) => {
            let option = column.options!.find((o) => o.name === x.name);
            if (!option) column.options!.push((option = { id: `opt-${++idCounter}`, name: String(x.name), color: 'default' }));
            return option;
          }),
        };
      }
    }
  };

  /** POST /v1/pages — developers.notion.com/reference/post-page */
  const createPage = (r: FakeRequest): FakeResponse => {
    const b = (r.body ?? {}) as { parent?: { page_id?: unknown; database_id?: unknown }; properties?: Record<string, Record<string, unknown>>; children?: unknown };
    if (!b.parent || typeof b.parent !== 'object') return invalid('body failed validation: body.parent should be defined, instead was `undefined`.');
    if (b.properties === undefined || typeof b.properties !== 'object') return invalid('body failed validation: body.properties should be defined, instead was `undefined`.');
    if (b.children !== undefined) {
      if (!Array.isArray(b.children)) return invalid('body failed validation: body.children should be an array.');
      if (b.children.length > 100) return invalid(`body failed validation: body.children.length should be ≤ \`100\`, instead was \`${b.children.length}\`.`);
      if (b.children.some((c) => typeof c !== 'object' || c === null || typeof (c as { type?: unknown }).type !== 'string')) return invalid('body failed validation: body.children[0].type should be defined.');
    }
    const now = new Date().toISOString();
    const id = crypto.randomUUID();
    let record: NotionPageRecord;
    if (typeof b.parent.database_id === 'string') {
      if (!isDatabase(b.parent.database_id)) return error(404, 'object_not_found', `Could not find database with ID: ${b.parent.database_id}. Make sure the relevant pages and databases are shared with your integration.`);
      const properties: Record<string, Record<string, unknown>> = {};
      for (const [key, value] of Object.entries(b.properties)) {
        const entry = Object.entries(columns).find(([name, c]) => name === key || c.id === key);
        if (!entry) return invalid(`${key} is not a property that exists.`);
        const converted = convert(entry[0], entry[1], value);
        if (typeof converted === 'string') return invalid(converted);
        properties[entry[0]] = converted;
      }
      // Columns not given are empty.
      for (const [name, c] of Object.entries(columns)) {
        if (properties[name]) continue;
        const empty = { title: [], rich_text: [], checkbox: false, number: null, date: null, status: c.options?.[0] ?? null, select: null, multi_select: [] }[c.type];
        properties[name] = { id: c.id, type: c.type, [c.type]: empty };
      }
      record = { id, parent: { type: 'database_id', database_id: NOTION_TASKS_DATABASE_ID }, properties, children: b.children ?? [], created_time: now, last_edited_time: now };
    } else if (typeof b.parent.page_id === 'string') {
      const parent = find(b.parent.page_id);
      if (!parent) return error(404, 'object_not_found', `Could not find page with ID: ${b.parent.page_id}. Make sure the relevant pages and databases are shared with your integration.`);
      const other = Object.keys(b.properties).find((k) => k !== 'title');
      if (other) return invalid(`Invalid property identifier for a page with a page parent: ${other}. Only "title" can be set.`);
      const title = b.properties.title as { title?: unknown } | undefined;
      const converted = title ? convert('title', { id: 'title', type: 'title' }, title) : { id: 'title', type: 'title', title: [] };
      if (typeof converted === 'string') return invalid(converted);
      record = { id, parent: { type: 'page_id', page_id: parent.id }, properties: { title: converted }, children: b.children ?? [], created_time: now, last_edited_time: now };
    } else {
      return invalid('body failed validation: body.parent.page_id should be defined, instead was `undefined`.');
    }
    pages.set(id, record);
    return { status: 200, body: pageJson(record) };
  };

  /** Whether a page passes a filter object; a string is Notion's validation message. */
  const matches = (p: NotionPageRecord, filter: Record<string, unknown>): boolean | string => {
    for (const combinator of ['and', 'or'] as const) {
      const parts = filter[combinator];
      if (parts === undefined) continue;
      if (!Array.isArray(parts)) return `body failed validation: body.filter.${combinator} should be an array.`;
      const results = parts.map((f: Record<string, unknown>) => matches(p, f));
      const problem = results.find((x) => typeof x === 'string');
      if (problem !== undefined) return problem;
      return combinator === 'and' ? results.every(Boolean) : results.some(Boolean);
    }
    const key = filter.property;
    const entry = Object.entries(columns).find(([name, c]) => name === key || c.id === key);
    if (!entry) return `Could not find property with name or id: ${String(key)}`;
    const [name, column] = entry;
    const condition = filter[column.type] as Record<string, unknown> | undefined;
    if (!condition || typeof condition !== 'object') return `body failed validation: body.filter.${column.type} should be defined, instead was \`undefined\`.`;
    const stored = p.properties[name]?.[column.type];
    const text = column.type === 'title' || column.type === 'rich_text' ? plainOf(stored) : undefined;
    const optionName = (stored as { name?: string } | null)?.name;
    const [op, operand] = Object.entries(condition)[0] ?? [];
    switch (op) {
      case 'equals':
        return text !== undefined ? text === operand : column.type === 'select' || column.type === 'status' ? optionName === operand : column.type === 'date' ? (stored as { start?: string } | null)?.start === operand : stored === operand;
      case 'does_not_equal':
        return text !== undefined ? text !== operand : column.type === 'select' || column.type === 'status' ? optionName !== operand : stored !== operand;
      case 'contains':
        if (column.type === 'multi_select') return Array.isArray(stored) && stored.some((o: { name?: string }) => o.name === operand);
        return (text ?? '').toLowerCase().includes(String(operand).toLowerCase());
      case 'is_empty':
        return stored === null || stored === undefined || (Array.isArray(stored) && stored.length === 0);
      case 'is_not_empty':
        return !(stored === null || stored === undefined || (Array.isArray(stored) && stored.length === 0));
      case 'before':
      case 'after':
      case 'on_or_before':
      case 'on_or_after': {
        const start = (stored as { start?: string } | null)?.start;
        if (!start) return false;
        const cmp = start.localeCompare(String(operand));
        return op === 'before' ? cmp < 0 : op === 'after' ? cmp > 0 : op === 'on_or_before' ? cmp <= 0 : cmp >= 0;
      }
      default:
        return `body failed validation: body.filter.${column.type}.${String(op)} is not a supported condition.`;
    }
  };

  const sortKey = (p: NotionPageRecord, s: { property?: string; timestamp?: string }): string | number => {
    if (s.timestamp === 'created_time') return p.created_time;
    if (s.timestamp === 'last_edited_time') return p.last_edited_time;
    const v = p.properties[s.property ?? ''];
    if (!v) return '';
    const raw = v[v.type as string];
    if (v.type === 'title' || v.type === 'rich_text') return plainOf(raw);
    if (v.type === 'date') return (raw as { start?: string } | null)?.start ?? '\uffff';
    if (v.type === 'select' || v.type === 'status') return (raw as { name?: string } | null)?.name ?? '';
    return typeof raw === 'number' ? raw : String(raw ?? '');
  };

  /** POST /v1/databases/{database_id}/query — developers.notion.com/reference/post-database-query */
  const query = (r: FakeRequest): FakeResponse => {
    const id = r.params.id ?? '';
    if (!UUID.test(id)) return invalid(`path failed validation: path.database_id should be a valid uuid, instead was \`"${id}"\`.`);
    if (!isDatabase(id)) return error(404, 'object_not_found', `Could not find database with ID: ${id}. Make sure the relevant pages and databases are shared with your integration.`);
    const b = (r.body ?? {}) as { filter?: Record<string, unknown>; sorts?: Array<{ property?: string; timestamp?: string; direction?: string }>; start_cursor?: unknown; page_size?: unknown };
    let rows = [...pages.values()].filter((p) => p.parent.type === 'database_id');
    if (b.filter) {
      const checked = rows.map((p) => matches(p, b.filter!));
      const problem = checked.find((x) => typeof x === 'string');
      if (typeof problem === 'string') return invalid(problem);
      rows = rows.filter((_, i) => checked[i] === true);
    }
    // Default order: most recently created first.
    rows.sort((x, y) => y.created_time.localeCompare(x.created_time) || y.last_edited_time.localeCompare(x.last_edited_time));
    for (const s of [...(b.sorts ?? [])].reverse()) {
      if (s.property !== undefined && !columns[s.property]) return invalid(`Could not find sort property with name or id: ${s.property}`);
      const dir = s.direction === 'descending' ? -1 : 1;
      rows.sort((x, y) => {
        const a = sortKey(x, s);
        const c = sortKey(y, s);
        return dir * (typeof a === 'number' && typeof c === 'number' ? a - c : String(a).localeCompare(String(c)));
      });
    }
    const answer = list(rows.map((p) => ({ id: p.id, p })), b as Record<string, unknown>);
    if (answer.status !== 200) return answer;
    const body = answer.body as { results: Array<{ p: NotionPageRecord }> };
    return { ...answer, body: { ...body, results: body.results.map((x) => pageJson(x.p)) } };
  };

  const provider = await startFakeProvider({
    prefix: '/v1',
    headers: { 'x-notion-request-id': 'fake-request' },
    gate(r) {
      const token = tokenOf(r);
      if (!token || !tokens.has(token)) return error(401, 'unauthorized', 'API token is invalid.');
      if (!r.headers['notion-version']) return error(400, 'missing_version', 'Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.');
      return undefined;
    },
    routes: [
      { method: 'POST', path: '/search', handle: search },
      { method: 'GET', path: '/pages/:id', handle: getPage },
      { method: 'POST', path: '/pages', handle: createPage },
      { method: 'POST', path: '/databases/:id/query', handle: query },
      { method: 'GET', path: '/databases/:id', handle: (r) => (isDatabase(r.params.id ?? '') ? { status: 200, body: databaseJson() } : error(404, 'object_not_found', `Could not find database with ID: ${r.params.id ?? ''}.`)) },
    ],
    notFound: () => error(404, 'invalid_request_url', 'Invalid request URL.'),
  });

  return {
    ...provider,
    reset() {
      provider.reset();
      columns = schema();
      pages.clear();
      for (const [k, v] of seed(columns)) pages.set(k, v);
    },
    tokens,
    pages,
    tokensSeen: () => provider.requests.map((r) => tokenOf(r) ?? ''),
  };
}
