import { defaultErrorMessage } from '../http/provider-errors.js';
import { JSON_SCHEMA_2020_12, type JsonSchema } from '../native/native-connector.definition.js';

/**
 * Schema fragments, Slack's objects as the tools read them, and the compact result shapes
 * (api.slack.com/methods, api.slack.com/types). Slack answers every Web API call with a
 * JSON envelope `{ok, error?, response_metadata?}`; `ok: false` is an error whatever the
 * HTTP status (api.slack.com/web#evaluating_responses).
 */

// ---- input fragments ------------------------------------------------------------------

export const CONVERSATION_ID = {
  type: 'string',
  description: 'Conversation ID: C… for a channel, G… for a private channel or group, D… for a direct message (from slack_list_channels).',
  pattern: '^[CDG][A-Z0-9]{2,30}$',
} as const;

export const USER_ID = { type: 'string', description: 'User ID, e.g. "U0123ABCDEF" (W… on Enterprise Grid).', pattern: '^[UW][A-Z0-9]{2,30}$' } as const;

/** A message timestamp: Slack's ID of a message within its conversation. */
export const TS = { type: 'string', pattern: '^\\d{1,12}\\.\\d{1,8}$', description: 'A message ts, e.g. "1503435956.000247".' } as const;

export const CURSOR = {
  type: 'string',
  minLength: 1,
  maxLength: 1024,
  description: 'To continue a listing: the next_cursor of the previous result. Leave out for the first page.',
} as const;

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
const NSTR = { type: ['string', 'null'] } as const;
const INT = { type: 'integer' } as const;
const BOOL = { type: 'boolean' } as const;
const obj = (properties: Record<string, JsonSchema>) => ({ type: 'object', properties, required: Object.keys(properties) });

export const NEXT_CURSOR = { type: ['string', 'null'], description: 'Pass as cursor to get the next page; null on the last page.' } as const;

export const CHANNEL = obj({
  id: STR,
  name: { ...NSTR, description: 'Channel name without #; null for a direct message.' },
  type: { type: 'string', enum: ['public_channel', 'private_channel', 'mpim', 'im'] },
  is_archived: BOOL,
  is_member: { ...BOOL, description: 'Whether the connected user (or bot) is in it; history needs membership.' },
  num_members: { type: ['integer', 'null'] },
  topic: STR,
  purpose: STR,
  user: { ...NSTR, description: 'For a direct message: the other user\'s ID.' },
  created: { ...INT, description: 'Unix time (seconds) the conversation was created.' },
});

export const MESSAGE = obj({
  ts: STR,
  user: { ...NSTR, description: 'Author\'s user ID; null for bot and system messages.' },
  bot_id: NSTR,
  subtype: { ...NSTR, description: 'null for a plain message; e.g. bot_message, channel_join.' },
  text: STR,
  thread_ts: { ...NSTR, description: 'The thread\'s parent ts when the message starts or belongs to a thread.' },
  reply_count: { ...INT, description: 'Replies in the thread this message starts (0 if none).' },
});

export const SEARCH_MATCH = obj({
  channel_id: STR,
  channel_name: NSTR,
  user: NSTR,
  username: NSTR,
  ts: STR,
  text: STR,
  permalink: { type: 'string', format: 'uri' },
});

export const USER_PROPS = {
  id: STR,
  team_id: STR,
  name: { ...STR, description: 'The username (handle).' },
  real_name: NSTR,
  display_name: NSTR,
  title: NSTR,
  email: { ...NSTR, description: 'Needs the users:read.email scope; null without it.' },
  tz: { ...NSTR, description: 'IANA time zone, e.g. "America/Los_Angeles".' },
  status_text: NSTR,
  is_bot: BOOL,
  is_admin: BOOL,
  deleted: { ...BOOL, description: 'True for a deactivated account.' },
} satisfies Record<string, JsonSchema>;

// ---- Slack's objects, as far as the tools read them -------------------------------------

/** The envelope of every Web API answer. */
export interface SlackAnswer {
  readonly ok?: boolean;
  readonly error?: string;
  /** missing_scope: the scope the method needs. */
  readonly needed?: string;
  readonly response_metadata?: { readonly next_cursor?: string; readonly messages?: readonly unknown[] };
}

export interface SlackConversation {
  readonly id: string;
  readonly name?: string;
  readonly is_channel?: boolean;
  readonly is_group?: boolean;
  readonly is_im?: boolean;
  readonly is_mpim?: boolean;
  readonly is_private?: boolean;
  readonly is_archived?: boolean;
  readonly is_member?: boolean;
  readonly num_members?: number;
  readonly topic?: { readonly value?: string };
  readonly purpose?: { readonly value?: string };
  readonly user?: string;
  readonly created?: number;
}

export interface SlackMessage {
  readonly ts: string;
  readonly user?: string;
  readonly bot_id?: string;
  readonly subtype?: string;
  readonly text?: string;
  readonly thread_ts?: string;
  readonly reply_count?: number;
}

export interface SlackSearchMatch {
  readonly channel?: { readonly id?: string; readonly name?: string };
  readonly user?: string | null;
  readonly username?: string;
  readonly ts: string;
  readonly text?: string;
  readonly permalink: string;
}

export interface SlackUser {
  readonly id: string;
  readonly team_id?: string;
  readonly name?: string;
  readonly real_name?: string;
  readonly deleted?: boolean;
  readonly tz?: string | null;
  readonly is_bot?: boolean;
  readonly is_admin?: boolean;
  readonly profile?: { readonly real_name?: string; readonly display_name?: string; readonly title?: string; readonly email?: string; readonly status_text?: string };
}

// ---- mapping ----------------------------------------------------------------------------

const text = (s: string | undefined | null) => (s ? s : null);

export function channelSummary(c: SlackConversation) {
  const type = c.is_im ? 'im' : c.is_mpim ? 'mpim' : c.is_private || c.is_group ? 'private_channel' : 'public_channel';
  return {
    id: c.id,
    name: text(c.name),
    type,
    is_archived: c.is_archived ?? false,
    is_member: c.is_member ?? c.is_im ?? false,
    num_members: c.num_members ?? null,
    topic: c.topic?.value ?? '',
    purpose: c.purpose?.value ?? '',
    user: text(c.user),
    created: c.created ?? 0,
  };
}

export function messageSummary(m: SlackMessage) {
  return {
    ts: m.ts,
    user: text(m.user),
    bot_id: text(m.bot_id),
    subtype: text(m.subtype),
    text: m.text ?? '',
    thread_ts: text(m.thread_ts),
    reply_count: m.reply_count ?? 0,
  };
}

export function searchMatch(m: SlackSearchMatch) {
  return {
    channel_id: m.channel?.id ?? '',
    channel_name: text(m.channel?.name),
    user: text(m.user),
    username: text(m.username),
    ts: m.ts,
    text: m.text ?? '',
    permalink: m.permalink,
  };
}

export function userDetail(u: SlackUser) {
  return {
    id: u.id,
    team_id: u.team_id ?? '',
    name: u.name ?? '',
    real_name: text(u.profile?.real_name ?? u.real_name),
    display_name: text(u.profile?.display_name),
    title: text(u.profile?.title),
    email: text(u.profile?.email),
    tz: text(u.tz),
    status_text: text(u.profile?.status_text),
    is_bot: u.is_bot ?? false,
    is_admin: u.is_admin ?? false,
    deleted: u.deleted ?? false,
  };
}

/** `response_metadata.next_cursor`, or null when Slack sends none or "" (the last page). */
export function nextCursor(body: SlackAnswer): string | null {
  const cursor = body.response_metadata?.next_cursor;
  return typeof cursor === 'string' && cursor !== '' ? cursor : null;
}

// ---- errors -----------------------------------------------------------------------------

/**
 * Error codes that mean the token itself is refused (api.slack.com/methods/*: "Errors"):
 * handled like an HTTP 401, so an OAuth token is refreshed once and a static one reported.
 */
const REFUSED = new Set(['not_authed', 'invalid_auth', 'token_expired', 'token_revoked', 'account_inactive']);

function isFailure(body: unknown): body is SlackAnswer & { ok: false } {
  return typeof body === 'object' && body !== null && (body as SlackAnswer).ok === false;
}

/**
 * Slack's words for a failure: the error code, with the scope it needs (missing_scope) and
 * the validation messages of `response_metadata.messages` (invalid_arguments), which is what
 * a model needs to fix its call.
 */
export function slackErrorMessage(body: unknown): string | undefined {
  if (!isFailure(body) || typeof body.error !== 'string' || body.error === '') return defaultErrorMessage(body);
  const details: string[] = [];
  if (typeof body.needed === 'string' && body.needed) details.push(`needed scope: ${body.needed}`);
  const messages = body.response_metadata?.messages;
  if (Array.isArray(messages)) details.push(...messages.filter((m): m is string => typeof m === 'string').slice(0, 5));
  return details.length > 0 ? `${body.error} (${details.join('; ')})` : body.error;
}

/** `HTTP 200 {ok: false, error}` is an error: its code is the message. */
export function slackAnswerError(body: unknown): string | undefined {
  return isFailure(body) ? (slackErrorMessage(body) ?? 'unknown_error') : undefined;
}

/** `{ok: false, error: "invalid_auth" | "token_expired" | …}`: the credential is refused. */
export function slackAnswerRefused(body: unknown): boolean {
  return isFailure(body) && typeof body.error === 'string' && REFUSED.has(body.error);
}
