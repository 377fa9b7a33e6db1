import { ToolError } from '../http/provider-errors.js';
import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import { input, NOTION_ID, output, PAGE_PROPS, pageDetail, type NotionPage } from './notion.schemas.js';

export interface GetPageArgs {
  readonly page_id: string;
}

/** GET https://api.notion.com/v1/pages/{page_id} — developers.notion.com/reference/retrieve-a-page */
export const getPage = defineTool<GetPageArgs>({
  name: 'notion_get_page',
  title: 'Get a Notion page',
  description:
    'Gets one Notion page by ID: its title, URL, parent, and every property (for a database row: the columns) as {type, value}. ' +
    'The page\'s body (its blocks) is not included. The ID is the 32 hex digits at the end of the page\'s URL, or an id from notion_search or notion_query_database.',
  inputSchema: input({ page_id: { ...NOTION_ID, description: 'The page ID, with or without dashes.' } }, ['page_id']),
  outputSchema: output(PAGE_PROPS),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const response = await http.get<NotionPage>('/pages/{page_id}', { params: { page_id: args.page_id } });
    return pageDetail(response.body);
  },
});

export interface CreatePageArgs {
  readonly parent: { readonly page_id: string } | { readonly database_id: string };
  readonly title?: string;
  readonly properties?: Readonly<Record<string, Record<string, unknown>>>;
  readonly content?: string;
  readonly children?: readonly Record<string, unknown>[];
}

/** Notion's limits on one request (developers.notion.com/reference/request-limits). */
const MAX_TEXT = 2000;
const MAX_BLOCKS = 100;

/** Text as one rich-text array, in pieces of at most 2000 characters. */
function richText(text: string) {
  const pieces: Array<{ type: 'text'; text: { content: string } }> = [];
  for (let i = 0; i < text.length; i += MAX_TEXT) pieces.push({ type: 'text', text: { content: text.slice(i, i + MAX_TEXT) } });
  return pieces;
}

/** Plain text as paragraph blocks, one per paragraph (separated by blank lines). */
function paragraphs(content: string) {
  return content
    .split(/\r?\n\s*\r?\n/)
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => ({ object: 'block', type: 'paragraph', paragraph: { rich_text: richText(p) } }));
}

/** POST https://api.notion.com/v1/pages — developers.notion.com/reference/post-page */
export const createPage = defineTool<CreatePageArgs>({
  name: 'notion_create_page',
  title: 'Create a Notion page',
  description:
    'Creates a Notion page, as the connection\'s integration, either under a parent page or as a new row of a database (the parent must be shared with the integration). ' +
    'title sets the page\'s title (for a database row, its title column). For a database row, set other columns in properties, keyed by column name, in Notion\'s ' +
    'property-value format, e.g. {"Status": {"status": {"name": "Done"}}, "Tags": {"multi_select": [{"name": "ops"}]}, "Due": {"date": {"start": "2024-06-01"}}, ' +
    '"Estimate": {"number": 3}}; a page under a page can only have a title. content adds plain-text paragraphs (blank lines separate them); children adds ' +
    'Notion block objects instead or as well (at most 100 blocks in all). Each call creates another page, so do not repeat it to retry. Returns the new page.',
  inputSchema: input(
    {
      parent: {
        description: 'Where to create it: {"page_id": "…"} for a sub-page, {"database_id": "…"} for a database row.',
        oneOf: [
          { type: 'object', properties: { page_id: NOTION_ID }, required: ['page_id'], additionalProperties: false },
          { type: 'object', properties: { database_id: NOTION_ID }, required: ['database_id'], additionalProperties: false },
        ],
      },
      title: { type: 'string', minLength: 1, maxLength: MAX_TEXT, description: 'The page\'s title.' },
      properties: {
        type: 'object',
        maxProperties: 100,
        additionalProperties: { type: 'object' },
        description: 'Database columns by name (or property ID), each in Notion\'s property-value format; the title column may be given here instead of title.',
      },
      content: { type: 'string', minLength: 1, maxLength: 100000, description: 'Plain text for the page\'s body; blank lines separate paragraphs.' },
      children: {
        type: 'array',
        maxItems: MAX_BLOCKS,
        items: { type: 'object', properties: { type: { type: 'string', pattern: '^[a-z0-9_]{1,64}$' } }, required: ['type'] },
        description: 'Notion block objects for the body, e.g. {"type": "heading_2", "heading_2": {"rich_text": [{"text": {"content": "Notes"}}]}}; added after content.',
      },
    },
    ['parent'],
  ),
  outputSchema: output(PAGE_PROPS),
  annotations: ANNOTATIONS.create,
  async run(args, http) {
    const properties: Record<string, unknown> = { ...args.properties };
    if (args.title !== undefined) {
      // The title property's ID is "title" in every database and page (developers.notion.com/reference/page-property-values#title).
      if ('title' in properties) throw new ToolError('give the title either as title or as properties.title, not both');
      properties.title = { title: richText(args.title) };
    }
    const children = [...(args.content ? paragraphs(args.content) : []), ...(args.children ?? [])];
    if (children.length > MAX_BLOCKS) throw new ToolError(`Notion takes at most ${MAX_BLOCKS} blocks per page creation; content and children make ${children.length}`);
    const response = await http.post<NotionPage>('/pages', {
      parent: args.parent,
      properties,
      ...(children.length > 0 ? { children } : {}),
    });
    return pageDetail(response.body);
  },
});
