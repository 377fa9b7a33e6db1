import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import {
  channelSummary,
  CHANNEL,
  CONVERSATION_ID,
  CURSOR,
  input,
  MESSAGE,
  messageSummary,
  NEXT_CURSOR,
  nextCursor,
  output,
  TS,
  type SlackAnswer,
  type SlackConversation,
  type SlackMessage,
} from './slack.schemas.js';

const CONVERSATION_TYPES = ['public_channel', 'private_channel', 'mpim', 'im'] as const;

export interface ListChannelsArgs {
  readonly types?: readonly (typeof CONVERSATION_TYPES)[number][];
  readonly exclude_archived?: boolean;
  readonly limit?: number;
  readonly cursor?: string;
}

/** GET https://slack.com/api/conversations.list — api.slack.com/methods/conversations.list */
export const listChannels = defineTool<ListChannelsArgs>({
  name: 'slack_list_channels',
  title: 'List Slack channels',
  description:
    'Lists the conversations of the Slack workspace: public channels by default, and private channels, group and direct messages when asked for in types ' +
    '(only those the connected user or bot can see). Gives each one\'s ID (what the other Slack tools take), name, topic, purpose, member count and whether the user is a member. ' +
    'One page at a time: when next_cursor is not null, call again with cursor set to it. A page may hold fewer than limit conversations even when more follow.',
  inputSchema: input(
    {
      types: {
        type: 'array',
        items: { type: 'string', enum: [...CONVERSATION_TYPES] },
        minItems: 1,
        uniqueItems: true,
        description: 'Kinds of conversation to list (default ["public_channel"]); private_channel, mpim and im need the groups:read, mpim:read and im:read scopes.',
      },
      exclude_archived: { type: 'boolean', description: 'Leave out archived channels (default false).' },
      limit: { type: 'integer', minimum: 1, maximum: 999, default: 100, description: 'Conversations per page, at most 999 (default 100; Slack advises 200 or fewer).' },
      cursor: CURSOR,
    },
    [],
  ),
  outputSchema: output({ channels: { type: 'array', items: CHANNEL }, next_cursor: NEXT_CURSOR }),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const response = await http.get<SlackAnswer & { channels: SlackConversation[] }>('/conversations.list', {
      query: { types: args.types?.join(','), exclude_archived: args.exclude_archived, limit: args.limit, cursor: args.cursor },
    });
    return { channels: response.body.channels.map(channelSummary), next_cursor: nextCursor(response.body) };
  },
});

export interface ChannelHistoryArgs {
  readonly channel: string;
  readonly oldest?: string;
  readonly latest?: string;
  readonly inclusive?: boolean;
  readonly limit?: number;
  readonly cursor?: string;
}

/** GET https://slack.com/api/conversations.history — api.slack.com/methods/conversations.history */
export const channelHistory = defineTool<ChannelHistoryArgs>({
  name: 'slack_channel_history',
  title: 'Read a Slack channel\'s messages',
  description:
    'Reads the messages of one Slack conversation (channel, private channel or direct message), newest first; thread replies are not included, but a thread\'s parent ' +
    'shows its reply_count. Narrow to a time window with oldest and latest (message ts values, i.e. Unix seconds such as "1704067200.000000"). ' +
    'The connected user or bot must be a member of the conversation (else not_in_channel). When next_cursor is not null, call again with cursor set to it for older messages.',
  inputSchema: input(
    {
      channel: CONVERSATION_ID,
      oldest: { ...TS, description: 'Only messages after this ts (Unix seconds with a fraction, e.g. "1704067200.000000").' },
      latest: { ...TS, description: 'Only messages before this ts (default: now).' },
      inclusive: { type: 'boolean', description: 'Include messages whose ts equals oldest or latest (default false).' },
      limit: { type: 'integer', minimum: 1, maximum: 999, default: 100, description: 'Messages per page, at most 999 (default 100).' },
      cursor: CURSOR,
    },
    ['channel'],
  ),
  outputSchema: output({
    messages: { type: 'array', items: MESSAGE },
    has_more: { type: 'boolean', description: 'Whether older messages remain in the window.' },
    next_cursor: NEXT_CURSOR,
  }),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const response = await http.get<SlackAnswer & { messages: SlackMessage[]; has_more?: boolean }>('/conversations.history', { query: { ...args } });
    return { messages: response.body.messages.map(messageSummary), has_more: response.body.has_more ?? false, next_cursor: nextCursor(response.body) };
  },
});
