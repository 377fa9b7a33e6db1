import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import { input, output, SEARCH_MATCH, searchMatch, type SlackAnswer, type SlackSearchMatch } from './slack.schemas.js';

export interface SearchMessagesArgs {
  readonly query: string;
  readonly sort?: 'score' | 'timestamp';
  readonly sort_dir?: 'asc' | 'desc';
  readonly count?: number;
  readonly page?: number;
}

interface SearchAnswer extends SlackAnswer {
  readonly messages: {
    readonly total: number;
    readonly matches: readonly SlackSearchMatch[];
    readonly paging?: { readonly page?: number; readonly pages?: number };
  };
}

/** GET https://slack.com/api/search.messages — api.slack.com/methods/search.messages */
export const searchMessages = defineTool<SearchMessagesArgs>({
  name: 'slack_search_messages',
  title: 'Search Slack messages',
  description:
    'Searches the messages of the Slack workspace the connected user can see, with Slack search syntax: words plus modifiers such as "in:#channel", "from:@username", ' +
    '"has:link", "before:2024-06-01", "after:2024-01-31", "during:june". Returns each match\'s channel, author, ts, text and permalink; use the ts with ' +
    'slack_post_message\'s thread_ts to reply. Needs a user token (search:read): a bot token gets not_allowed_token_type. When next_page is not null, call again with page set to it.',
  inputSchema: input(
    {
      query: { type: 'string', minLength: 1, maxLength: 1000, description: 'Search words and modifiers, e.g. "deploy failed in:#ops after:2024-05-01".' },
      sort: { type: 'string', enum: ['score', 'timestamp'], description: 'Best match first (score, the default) or by time.' },
      sort_dir: { type: 'string', enum: ['asc', 'desc'], description: 'Sort direction (default desc).' },
      count: { type: 'integer', minimum: 1, maximum: 100, default: 20, description: 'Matches per page, at most 100 (default 20).' },
      page: { type: 'integer', minimum: 1, maximum: 100, default: 1, description: 'Page to return, from 1 (Slack serves at most 100 pages).' },
    },
    ['query'],
  ),
  outputSchema: output({
    total: { type: 'integer', description: 'Matches in all.' },
    matches: { type: 'array', items: SEARCH_MATCH },
    next_page: { type: ['integer', 'null'], minimum: 2, description: 'The page to ask for next; null on the last page.' },
  }),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const response = await http.get<SearchAnswer>('/search.messages', { query: { ...args } });
    const { total, matches, paging } = response.body.messages;
    const page = paging?.page ?? args.page ?? 1;
    return { total, matches: matches.map(searchMatch), next_page: page < Math.min(paging?.pages ?? 0, 100) ? page + 1 : null };
  },
});
