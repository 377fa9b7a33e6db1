import { input, NEXT_PAGE_TOKEN, output, PAGE_TOKEN } from '../google/google-api.js';
import { ProviderError, ToolError } from '../http/provider-errors.js';
import type { ProviderHttp } from '../http/provider-http.js';
import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import {
  DRAFT_PROPS,
  GMAIL_ID,
  internalDate,
  MAIL_PROPS,
  MAIL_SUMMARY,
  MESSAGE_PROPS,
  SENT_PROPS,
  type GmailDraft,
  type GmailMessage,
  type GmailMessageList,
} from './gmail.schemas.js';
import { headerValue, messageBodies, rawMessage } from './mime.js';

/** The signed-in user: every path is under users/me. */
const ME = '/users/me';
/** Concurrent messages.get calls of one listing (Gmail's per-user quota is 250 units/s; a get costs 5). */
const FETCH_CONCURRENCY = 5;
const SUMMARY_HEADERS = ['From', 'To', 'Subject', 'Date'];

/** fn over items, at most `limit` at a time, results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  const queue = items.map((item, i) => [item, i] as const);
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) out[job[1]] = await fn(job[0]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface FetchMailsArgs {
  readonly query?: string;
  readonly label_ids?: readonly string[];
  readonly max_results?: number;
  readonly page_token?: string;
  readonly include_spam_trash?: boolean;
}

/**
 * GET users/me/messages (developers.google.com/gmail/api/reference/rest/v1/users.messages/list),
 * then GET users/me/messages/{id}?format=metadata&metadataHeaders=… per message
 * (…/users.messages/get).
 */
export const fetchMails = defineTool<FetchMailsArgs>({
  name: 'gmail_fetch_mails',
  title: 'Search Gmail messages',
  description:
    "Finds messages in the user's Gmail mailbox, newest first, with Gmail search syntax (the same as the Gmail search box), and returns for each its id, thread_id, labels, " +
    'From, To, Subject, Date and a snippet. Examples of query: "from:alice@example.com is:unread", "subject:invoice after:2024/01/01", "has:attachment newer_than:7d". ' +
    'label_ids restricts to messages having all those labels (INBOX, UNREAD, STARRED, SENT or a label id from gmail_list_labels). Spam and trash are left out unless include_spam_trash. ' +
    'Bodies are not included: use gmail_get_message with an id. When next_page_token is not null, call again with page_token set to it for more.',
  inputSchema: input(
    {
      query: { type: 'string', maxLength: 1000, description: 'Gmail search query, e.g. "from:bob@example.com is:unread". Empty or absent: all messages.' },
      label_ids: { type: 'array', items: { ...GMAIL_ID, description: 'A label id.' }, maxItems: 20, uniqueItems: true, description: 'Only messages with all these label ids.' },
      max_results: { type: 'integer', minimum: 1, maximum: 50, default: 10, description: 'Messages per page, at most 50 (default 10).' },
      page_token: PAGE_TOKEN,
      include_spam_trash: { type: 'boolean', default: false, description: 'Also search Spam and Trash.' },
    },
    [],
  ),
  outputSchema: output({
    messages: { type: 'array', items: MAIL_SUMMARY },
    next_page_token: NEXT_PAGE_TOKEN,
    result_size_estimate: { type: 'integer', description: "Gmail's estimate of the total number of matches." },
  }),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const list = await http.get<GmailMessageList>(`${ME}/messages`, {
      query: {
        q: args.query || undefined,
        labelIds: args.label_ids?.length ? args.label_ids : undefined,
        maxResults: args.max_results ?? 10,
        pageToken: args.page_token,
        includeSpamTrash: args.include_spam_trash,
      },
    });
    const found = await mapLimit(list.body.messages ?? [], FETCH_CONCURRENCY, (m) => metadata(http, m.id));
    return {
      messages: found.flatMap((m) => (m ? [m] : [])),
      next_page_token: list.body.nextPageToken ?? null,
      result_size_estimate: list.body.resultSizeEstimate ?? 0,
    };
  },
});

async function metadata(http: ProviderHttp, id: string) {
  let m: GmailMessage;
  try {
    m = (await http.get<GmailMessage>(`${ME}/messages/{id}`, { params: { id }, query: { format: 'metadata', metadataHeaders: SUMMARY_HEADERS } })).body;
  } catch (err) {
    // Deleted between the listing and this read: not a result any more.
    if (err instanceof ProviderError && err.status === 404) return undefined;
    throw err;
  }
  const headers = m.payload?.headers;
  return {
    id: m.id,
    thread_id: m.threadId,
    label_ids: [...(m.labelIds ?? [])],
    from: headerValue(headers, 'From'),
    to: headerValue(headers, 'To'),
    subject: headerValue(headers, 'Subject'),
    date: headerValue(headers, 'Date'),
    internal_date: internalDate(m),
    snippet: m.snippet ?? '',
  };
}

export interface GetMessageArgs {
  readonly id: string;
  readonly max_body_chars?: number;
}

/** GET users/me/messages/{id}?format=full — developers.google.com/gmail/api/reference/rest/v1/users.messages/get */
export const getMessage = defineTool<GetMessageArgs>({
  name: 'gmail_get_message',
  title: 'Read a Gmail message',
  description:
    'Reads one Gmail message by id (from gmail_fetch_mails): its headers (from, to, cc, subject, date, message_id, references), its text and HTML bodies decoded, ' +
    'and the names and sizes of its attachments (not their contents). Long bodies are cut at max_body_chars (truncated: true). ' +
    'To reply, pass thread_id, headers.message_id as in_reply_to and the references to gmail_send_mail or gmail_create_draft.',
  inputSchema: input(
    {
      id: { ...GMAIL_ID, description: 'The message id, as gmail_fetch_mails returns it.' },
      max_body_chars: { type: 'integer', minimum: 100, maximum: 500000, default: 50000, description: 'Longest text and html returned, in characters (default 50000).' },
    },
    ['id'],
  ),
  outputSchema: output(MESSAGE_PROPS),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const m = (await http.get<GmailMessage>(`${ME}/messages/{id}`, { params: { id: args.id }, query: { format: 'full' } })).body;
    const headers = m.payload?.headers;
    const h = (name: string) => headerValue(headers, name);
    const { text, html, attachments } = messageBodies(m.payload);
    const max = args.max_body_chars ?? 50000;
    const cut = (s: string | null) => (s !== null && s.length > max ? s.slice(0, max) : s);
    return {
      id: m.id,
      thread_id: m.threadId,
      label_ids: [...(m.labelIds ?? [])],
      snippet: m.snippet ?? '',
      internal_date: internalDate(m),
      headers: {
        from: h('From'),
        to: h('To'),
        cc: h('Cc'),
        bcc: h('Bcc'),
        reply_to: h('Reply-To'),
        subject: h('Subject'),
        date: h('Date'),
        message_id: h('Message-ID'),
        in_reply_to: h('In-Reply-To'),
        references: h('References'),
      },
      text: cut(text),
      html: cut(html),
      truncated: (text?.length ?? 0) > max || (html?.length ?? 0) > max,
      attachments,
    };
  },
});

export interface MailArgs {
  readonly to?: readonly string[];
  readonly cc?: readonly string[];
  readonly bcc?: readonly string[];
  readonly subject?: string;
  readonly body: string;
  readonly thread_id?: string;
  readonly in_reply_to?: string;
  readonly references?: readonly string[];
}

function raw(args: MailArgs): string {
  try {
    return rawMessage({ to: args.to, cc: args.cc, bcc: args.bcc, subject: args.subject, body: args.body, inReplyTo: args.in_reply_to, references: args.references });
  } catch (err) {
    throw new ToolError(`Invalid argument: ${(err as Error).message}`);
  }
}

/** POST users/me/messages/send {raw, threadId} — developers.google.com/gmail/api/reference/rest/v1/users.messages/send */
export const sendMail = defineTool<MailArgs>({
  name: 'gmail_send_mail',
  title: 'Send an email with Gmail',
  description:
    "Sends a plain-text email from the user's Gmail account (From is the user). Each call sends another email, so never repeat it to retry; prefer gmail_create_draft when the user should review first. " +
    'To reply in a conversation, pass thread_id, in_reply_to (the original\'s message_id), references, and the original subject prefixed with "Re: ". ' +
    'Returns the sent message\'s id and thread_id.',
  inputSchema: input({ ...MAIL_PROPS, to: { ...MAIL_PROPS.to, minItems: 1 } }, ['to', 'subject', 'body']),
  outputSchema: output(SENT_PROPS),
  annotations: ANNOTATIONS.create,
  async run(args, http) {
    const sent = await http.post<GmailMessage>(`${ME}/messages/send`, { raw: raw(args), ...(args.thread_id ? { threadId: args.thread_id } : {}) });
    return { id: sent.body.id, thread_id: sent.body.threadId, label_ids: [...(sent.body.labelIds ?? [])] };
  },
});

/** POST users/me/drafts {message: {raw, threadId}} — developers.google.com/gmail/api/reference/rest/v1/users.drafts/create */
export const createDraft = defineTool<MailArgs>({
  name: 'gmail_create_draft',
  title: 'Create a Gmail draft',
  description:
    "Saves a plain-text email as a draft in the user's Gmail account, for the user to review and send; nothing is sent. Each call creates another draft. " +
    'Recipients and subject may be left out. For a reply draft, pass thread_id, in_reply_to (the original\'s message_id), references and "Re: " + the original subject. ' +
    'Returns the draft id and its message id.',
  inputSchema: input(MAIL_PROPS, ['body']),
  outputSchema: output(DRAFT_PROPS),
  annotations: ANNOTATIONS.create,
  async run(args, http) {
    const draft = await http.post<GmailDraft>(`${ME}/drafts`, { message: { raw: raw(args), ...(args.thread_id ? { threadId: args.thread_id } : {}) } });
    return { draft_id: draft.body.id, message_id: draft.body.message.id, thread_id: draft.body.message.threadId };
  },
});
