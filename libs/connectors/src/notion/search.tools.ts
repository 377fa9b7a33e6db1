import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import { input, NEXT_CURSOR, output, PAGE_SIZE, SEARCH_RESULT, searchResult, START_CURSOR, type NotionDatabase, type NotionList, type NotionPage } from './notion.schemas.js';

export interface SearchArgs {
  readonly query?: string;
  readonly filter?: 'page' | 'database';
  readonly sort?: 'ascending' | 'descending';
  readonly page_size?: number;
  readonly start_cursor?: string;
}

/** POST https://api.notion.com/v1/search — developers.notion.com/reference/post-search */
export const search = defineTool<SearchArgs>({
  name: 'notion_search',
  title: 'Search Notion pages and databases',
  description:
    'Finds Notion pages and databases by title among those shared with the connection (a page not shared with the integration cannot be found). ' +
    'Without a query it lists everything shared. Returns each result\'s ID, title, URL and parent, not its content: use notion_get_page for a page\'s properties ' +
    'and notion_query_database for a database\'s rows. Matching is on titles only, not page text. When next_cursor is not null, call again with start_cursor set to it.',
  inputSchema: input(
    {
      query: { type: 'string', maxLength: 500, description: 'Words of the title to look for; leave out to list everything shared.' },
      filter: { type: 'string', enum: ['page', 'database'], description: 'Only pages, or only databases.' },
      sort: { type: 'string', enum: ['ascending', 'descending'], description: 'Order by last edit time (default: most relevant first).' },
      page_size: PAGE_SIZE,
      start_cursor: START_CURSOR,
    },
    [],
  ),
  outputSchema: output({
    results: { type: 'array', items: SEARCH_RESULT },
    next_cursor: NEXT_CURSOR,
    has_more: { type: 'boolean' },
  }),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const response = await http.post<NotionList<NotionPage | NotionDatabase>>('/search', {
      ...(args.query !== undefined ? { query: args.query } : {}),
      ...(args.filter ? { filter: { value: args.filter, property: 'object' } } : {}),
      ...(args.sort ? { sort: { direction: args.sort, timestamp: 'last_edited_time' } } : {}),
      ...(args.start_cursor ? { start_cursor: args.start_cursor } : {}),
      ...(args.page_size ? { page_size: args.page_size } : {}),
    });
    const { results, next_cursor, has_more } = response.body;
    return { results: results.map(searchResult), next_cursor: next_cursor ?? null, has_more };
  },
});
