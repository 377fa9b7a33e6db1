import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import { input, output, TS, type SlackAnswer, type SlackMessage } from './slack.schemas.js';

export interface PostMessageArgs {
  readonly channel: string;
  readonly text: string;
  readonly thread_ts?: string;
  readonly reply_broadcast?: boolean;
  readonly mrkdwn?: boolean;
  readonly unfurl_links?: boolean;
  readonly unfurl_media?: boolean;
}

interface PostMessageAnswer extends SlackAnswer {
  readonly channel: string;
  readonly ts: string;
  readonly message?: SlackMessage;
}

/** POST https://slack.com/api/chat.postMessage — api.slack.com/methods/chat.postMessage */
export const postMessage = defineTool<PostMessageArgs>({
  name: 'slack_post_message',
  title: 'Post a Slack message',
  description:
    'Posts a message to a Slack channel, private channel or direct message, as the connected user or bot (which must be a member of a private channel). ' +
    'To reply in a thread, set thread_ts to the ts of the thread\'s parent message (from slack_channel_history or slack_search_messages); ' +
    'reply_broadcast also shows the reply in the channel. Text uses Slack mrkdwn (*bold*, _italic_, <https://example.com|link>, <@U0123ABCDEF> mentions). ' +
    'Each call posts another message, so do not repeat it to retry. Returns the channel ID and the new message\'s ts.',
  inputSchema: {
    ...input(
      {
        channel: {
          type: 'string',
          pattern: '^(?:[CDGUW][A-Z0-9]{2,30}|#[a-z0-9][a-z0-9._-]{0,79})$',
          description: 'Where to post: a conversation ID (C…, G…, D…), a user ID (U…) for a direct message from the app, or a channel name with # ("#general").',
        },
        text: { type: 'string', minLength: 1, maxLength: 40000, description: 'The message, in Slack mrkdwn. Slack truncates messages over 40,000 characters; keep it under 4,000.' },
        thread_ts: { ...TS, description: 'ts of the parent message, to reply in its thread. Use the parent\'s ts, never a reply\'s.' },
        reply_broadcast: { type: 'boolean', description: 'With thread_ts: also show the reply in the channel (default false).' },
        mrkdwn: { type: 'boolean', description: 'Whether to apply mrkdwn formatting (default true).' },
        unfurl_links: { type: 'boolean', description: 'Whether to show previews of text links.' },
        unfurl_media: { type: 'boolean', description: 'Whether to show previews of media links.' },
      },
      ['channel', 'text'],
    ),
    dependentRequired: { reply_broadcast: ['thread_ts'] },
  },
  outputSchema: output({
    channel: { type: 'string', description: 'ID of the conversation the message is in.' },
    ts: { type: 'string', description: 'The new message\'s ts: its ID within the conversation, and the thread_ts to reply to it.' },
    thread_ts: { type: ['string', 'null'], description: 'The thread it was posted in; null for a top-level message.' },
    text: { type: 'string', description: 'The message as Slack stored it.' },
  }),
  annotations: ANNOTATIONS.create,
  async run(args, http) {
    // Slack reads JSON bodies only with the charset named (api.slack.com/web#posting_json).
    const response = await http.request<PostMessageAnswer>({
      method: 'POST',
      path: '/chat.postMessage',
      body: { contentType: 'application/json; charset=utf-8', data: JSON.stringify(args) },
    });
    const { channel, ts, message } = response.body;
    return { channel, ts, thread_ts: message?.thread_ts ?? args.thread_ts ?? null, text: message?.text ?? args.text };
  },
});
