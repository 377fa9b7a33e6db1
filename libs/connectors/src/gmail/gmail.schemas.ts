import { BOOL, INT, NSTR, obj, STR, STRINGS } from '../google/google-api.js';
import type { JsonSchema } from '../native/native-connector.definition.js';
import { ADDRESS_PATTERN, MESSAGE_ID_PATTERN, type GmailPart } from './mime.js';

/**
 * Schema fragments and Gmail's objects for the Gmail tools
 * (developers.google.com/gmail/api/reference/rest). Results are a compact subset: ids,
 * the headers a reader looks at, decoded bodies, never the raw MIME tree.
 */

// ---- input fragments ------------------------------------------------------------------

export const GMAIL_ID = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' } as const;

export const ADDRESS = {
  type: 'string',
  pattern: ADDRESS_PATTERN,
  maxLength: 320,
  description: 'An email address, optionally with a display name: "alice@example.com" or "Alice Example <alice@example.com>".',
} as const;

export const ADDRESSES = (what: string) => ({ type: 'array', items: ADDRESS, maxItems: 100, uniqueItems: true, description: what }) as const;

export const RFC_MESSAGE_ID = { type: 'string', pattern: MESSAGE_ID_PATTERN, description: 'A Message-ID header value, angle brackets included, e.g. "<CAF=abc@mail.gmail.com>".' } as const;

/** What gmail_send_mail and gmail_create_draft take. */
export const MAIL_PROPS = {
  to: ADDRESSES('Recipients (To).'),
  cc: ADDRESSES('Carbon-copy recipients (Cc).'),
  bcc: ADDRESSES('Blind-copy recipients (Bcc): they receive the mail; other recipients do not see them.'),
  subject: { type: 'string', maxLength: 500, pattern: '^[^\\r\\n]*$', description: 'The subject line; any language. For a reply, the original subject prefixed with "Re: ".' },
  body: { type: 'string', maxLength: 200000, description: 'The message text (plain text, sent as UTF-8).' },
  thread_id: { ...GMAIL_ID, description: 'For a reply: the thread_id of the message replied to, so Gmail files it in the same conversation.' },
  in_reply_to: { ...RFC_MESSAGE_ID, description: 'For a reply: the headers.message_id of the message replied to (gmail_get_message gives it).' },
  references: {
    type: 'array',
    items: RFC_MESSAGE_ID,
    maxItems: 100,
    description: "For a reply: the original's headers.references ids followed by its message_id. Default: just in_reply_to.",
  },
} satisfies Record<string, JsonSchema>;

// ---- output fragments -----------------------------------------------------------------

const NTIME = { type: ['string', 'null'], format: 'date-time', description: 'When Gmail received the message (internalDate), ISO 8601.' } as const;

export const MAIL_SUMMARY = obj({
  id: STR,
  thread_id: STR,
  label_ids: STRINGS,
  from: NSTR,
  to: NSTR,
  subject: NSTR,
  date: { ...NSTR, description: 'The Date header as sent.' },
  internal_date: NTIME,
  snippet: { ...STR, description: 'The start of the message text.' },
});

export const MESSAGE_PROPS = {
  id: STR,
  thread_id: STR,
  label_ids: STRINGS,
  snippet: STR,
  internal_date: NTIME,
  headers: obj({
    from: NSTR,
    to: NSTR,
    cc: NSTR,
    bcc: NSTR,
    reply_to: NSTR,
    subject: NSTR,
    date: NSTR,
    message_id: { ...NSTR, description: 'The Message-ID: pass it as in_reply_to to reply.' },
    in_reply_to: NSTR,
    references: NSTR,
  }),
  text: { ...NSTR, description: 'The text/plain body, decoded; null when the message has none.' },
  html: { ...NSTR, description: 'The text/html body, decoded; null when the message has none.' },
  truncated: { ...BOOL, description: 'True when text or html was cut at max_body_chars.' },
  attachments: {
    type: 'array',
    items: obj({ filename: STR, mime_type: STR, size: { ...INT, description: 'Bytes.' }, attachment_id: NSTR }),
  },
} satisfies Record<string, JsonSchema>;

export const SENT_PROPS = { id: STR, thread_id: STR, label_ids: STRINGS } satisfies Record<string, JsonSchema>;

export const DRAFT_PROPS = {
  draft_id: { ...STR, description: 'The draft, to find it in Gmail\'s Drafts.' },
  message_id: STR,
  thread_id: STR,
} satisfies Record<string, JsonSchema>;

export const LABEL = obj({
  id: { ...STR, description: 'What gmail_fetch_mails takes in label_ids, e.g. INBOX, UNREAD, Label_12.' },
  name: STR,
  type: { type: 'string', enum: ['system', 'user'] },
});

// ---- Gmail's objects, as far as the tools read them -------------------------------------

/** users.messages resource (…/rest/v1/users.messages#Message). */
export interface GmailMessage {
  readonly id: string;
  readonly threadId: string;
  readonly labelIds?: readonly string[];
  readonly snippet?: string;
  readonly historyId?: string;
  /** Epoch milliseconds, as a string. */
  readonly internalDate?: string;
  readonly payload?: GmailPart;
  readonly sizeEstimate?: number;
}

/** users.messages.list response. */
export interface GmailMessageList {
  readonly messages?: ReadonlyArray<{ readonly id: string; readonly threadId: string }>;
  readonly nextPageToken?: string;
  readonly resultSizeEstimate?: number;
}

export interface GmailDraft {
  readonly id: string;
  readonly message: GmailMessage;
}

export interface GmailLabel {
  readonly id: string;
  readonly name: string;
  readonly type?: 'system' | 'user';
}

/** Gmail's internalDate (epoch ms as a string) as ISO 8601. */
export function internalDate(m: GmailMessage): string | null {
  const ms = Number(m.internalDate);
  return m.internalDate !== undefined && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}
