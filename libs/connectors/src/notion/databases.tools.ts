import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import { input, NEXT_CURSOR, NOTION_ID, output, PAGE, PAGE_SIZE, pageDetail, START_CURSOR, type NotionList, type NotionPage } from './notion.schemas.js';

type Sort = { readonly property: string; readonly direction: 'ascending' | 'descending' } | { readonly timestamp: 'created_time' | 'last_edited_time'; readonly direction: 'ascending' | 'descending' };

export interface QueryDatabaseArgs {
  readonly database_id: string;
  readonly filter?: Readonly<Record<string, unknown>>;
  readonly sorts?: readonly Sort[];
  readonly page_size?: number;
  readonly start_cursor?: string;
}

const DIRECTION = { type: 'string', enum: ['ascending', 'descending'] } as const;

/** POST https://api.notion.com/v1/databases/{database_id}/query — developers.notion.com/reference/post-database-query */
export const queryDatabase = defineTool<QueryDatabaseArgs>({
  name: 'notion_query_database',
  title: 'Query a Notion database',
  description:
    'Lists the rows (pages) of a Notion database, with every column as {type, value}, optionally filtered and sorted. filter is Notion\'s filter object: one condition ' +
    'such as {"property": "Status", "status": {"equals": "Done"}}, {"property": "Done", "checkbox": {"equals": false}}, {"property": "Name", "title": {"contains": "plan"}}, ' +
    '{"property": "Due", "date": {"on_or_before": "2024-06-30"}}, or {"and": [...]} / {"or": [...]} of them. sorts orders by columns ({"property": "Due", "direction": "ascending"}) ' +
    'or by {"timestamp": "last_edited_time", "direction": "descending"}. Find a database\'s ID with notion_search (filter "database"). ' +
    'When next_cursor is not null, call again with start_cursor set to it and the same filter and sorts.',
  inputSchema: input(
    {
      database_id: { ...NOTION_ID, description: 'The database ID, with or without dashes.' },
      filter: { type: 'object', minProperties: 1, description: 'A Notion filter object (see above); the property type key must match the column\'s type.' },
      sorts: {
        type: 'array',
        maxItems: 10,
        items: {
          oneOf: [
            { type: 'object', properties: { property: { type: 'string', minLength: 1, maxLength: 200 }, direction: DIRECTION }, required: ['property', 'direction'], additionalProperties: false },
            { type: 'object', properties: { timestamp: { type: 'string', enum: ['created_time', 'last_edited_time'] }, direction: DIRECTION }, required: ['timestamp', 'direction'], additionalProperties: false },
          ],
        },
        description: 'Sort criteria, the first one first.',
      },
      page_size: PAGE_SIZE,
      start_cursor: START_CURSOR,
    },
    ['database_id'],
  ),
  outputSchema: output({ pages: { type: 'array', items: PAGE }, next_cursor: NEXT_CURSOR, has_more: { type: 'boolean' } }),
  annotations: ANNOTATIONS.read,
  async run({ database_id, ...body }, http) {
    const response = await http.post<NotionList<NotionPage>>('/databases/{database_id}/query', body, { params: { database_id } });
    const { results, next_cursor, has_more } = response.body;
    return { pages: results.map(pageDetail), next_cursor: next_cursor ?? null, has_more };
  },
});
