import { startFakeProvider, type FakeProvider, type FakeRequest, type FakeResponse } from './fake-provider.js';
import { bearerToken, googleError, googleGate, pageOffset, pageToken } from './google.js';

/**
 * A local stand-in for the Gmail API v1 (developers.google.com/gmail/api/reference/rest)
 * under `/gmail/v1`, reproducing the documented requests and answers of the endpoints the
 * gmail connector uses: users.messages.list (q, labelIds repeated, maxResults, pageToken,
 * includeSpamTrash; nextPageToken, resultSizeEstimate), users.messages.get (format full,
 * metadata with metadataHeaders, minimal), users.messages.send and users.drafts.create
 * (`raw` base64url RFC 2822), users.labels.list, Google's error body and its 401.
 */
export interface FakeGmail extends FakeProvider {
  /** Accepted bearer tokens; change it to revoke one. */
  readonly tokens: Set<string>;
  /** The mailbox, by message id (sent mail and drafts are added; `reset` restores the seed). */
  readonly messages: Map<string, GmailRecord>;
  /** Messages sent and drafts created, with their raw RFC 2822 text decoded. */
  readonly sent: SentRecord[];
  /** The tokens seen on requests, in order. */
  tokensSeen(): string[];
}

export interface FakeGmailOptions {
  /** Accepted tokens (default: one, `ya29.fixture_token_0001`). */
  readonly tokens?: readonly string[];
}

export interface GmailPartRecord {
  mimeType: string;
  filename?: string;
  headers: Array<{ name: string; value: string }>;
  /** Leaf bytes (a body) or children (a multipart). */
  data?: Buffer;
  attachmentId?: string;
  size?: number;
  parts?: GmailPartRecord[];
}

export interface GmailRecord {
  id: string;
  threadId: string;
  labelIds: string[];
  snippet: string;
  internalDate: string;
  historyId: string;
  payload: GmailPartRecord;
}

export interface SentRecord {
  readonly kind: 'message' | 'draft';
  readonly id: string;
  readonly threadId: string;
  /** The `raw` field as received. */
  readonly raw: string;
  /** `raw` decoded: the RFC 2822 text. */
  readonly rfc822: string;
}

export const ME = 'me@example.com';

const LABELS = [
  ...['CHAT', 'SENT', 'INBOX', 'IMPORTANT', 'TRASH', 'DRAFT', 'SPAM', 'CATEGORY_FORUMS', 'CATEGORY_UPDATES', 'CATEGORY_PERSONAL', 'CATEGORY_PROMOTIONS', 'CATEGORY_SOCIAL', 'STARRED', 'UNREAD'].map((id) => ({
    id,
    name: id,
    type: 'system',
    ...(id.startsWith('CATEGORY_') || id === 'CHAT' ? {} : { messageListVisibility: 'hide', labelListVisibility: 'labelShow' }),
  })),
  { id: 'Label_12', name: 'Work', messageListVisibility: 'show', labelListVisibility: 'labelShow', type: 'user' },
  { id: 'Label_13', name: 'Receipts', messageListVisibility: 'show', labelListVisibility: 'labelShow', type: 'user' },
];

const h = (name: string, value: string) => ({ name, value });
const text = (body: string, charset = 'UTF-8', encoding: BufferEncoding = 'utf8'): GmailPartRecord => ({
  mimeType: 'text/plain',
  headers: [h('Content-Type', `text/plain; charset="${charset}"`), h('Content-Transfer-Encoding', 'quoted-printable')],
  data: Buffer.from(body, encoding),
});
const html = (body: string): GmailPartRecord => ({ mimeType: 'text/html', headers: [h('Content-Type', 'text/html; charset="UTF-8"'), h('Content-Transfer-Encoding', 'quoted-printable')], data: Buffer.from(body, 'utf8') });

function seed(): Map<string, GmailRecord> {
  const messages: GmailRecord[] = [
    {
      id: '18f6a1c2b3d4e5f1',
      threadId: '18f6a1c2b3d4e5f1',
      labelIds: ['IMPORTANT', 'CATEGORY_PERSONAL', 'UNREAD', 'INBOX'],
      snippet: 'Hi, the Q2 report is attached. Café ☕ at 10?',
      internalDate: '1715670720000',
      historyId: '412345',
      payload: {
        mimeType: 'multipart/mixed',
        headers: [
          h('Delivered-To', ME),
          h('Received', 'by 2002:a05:6a10:1234 with SMTP id abc; Tue, 14 May 2024 00:12:00 -0700 (PDT)'),
          h('MIME-Version', '1.0'),
          h('Date', 'Tue, 14 May 2024 09:12:00 +0200'),
          h('Message-ID', '<CAF=q2report.0001@mail.example.com>'),
          h('Subject', 'Q2 report'),
          h('From', 'Alice Example <alice@example.com>'),
          h('To', ME),
          h('Cc', 'Bob <bob@example.com>'),
          h('Content-Type', 'multipart/mixed; boundary="000000000000a1b2c3"'),
        ],
        parts: [
          {
            mimeType: 'multipart/alternative',
            headers: [h('Content-Type', 'multipart/alternative; boundary="000000000000d4e5f6"')],
            parts: [text('Hi,\r\nthe Q2 report is attached. Café ☕ at 10?\r\nAlice\r\n'), html('<div dir="ltr">Hi,<br>the Q2 report is attached. Café ☕ at 10?<br>Alice</div>\r\n')],
          },
          {
            mimeType: 'application/pdf',
            filename: 'q2-report.pdf',
            headers: [h('Content-Type', 'application/pdf; name="q2-report.pdf"'), h('Content-Disposition', 'attachment; filename="q2-report.pdf"'), h('Content-Transfer-Encoding', 'base64'), h('X-Attachment-Id', 'f_lw5x1a2b0')],
            attachmentId: 'ANGjdJ9fkTs-i3GCQo5o97f_itG0Ja4pGqTNWyFpYjlCuRZx2mbbhcTf',
            size: 52341,
          },
        ],
      },
    },
    {
      id: '18f6a0b1c2d3e4f2',
      threadId: '18f6a0b1c2d3e4f2',
      labelIds: ['CATEGORY_PERSONAL', 'INBOX'],
      snippet: 'À demain à 10h, salle 4.',
      internalDate: '1715584320000',
      historyId: '412301',
      payload: {
        ...text('À demain à 10h, salle 4.\r\n', 'ISO-8859-1', 'latin1'),
        headers: [
          h('Date', 'Mon, 13 May 2024 09:12:00 +0200'),
          h('Message-ID', '<20240513071200.bob.0002@example.com>'),
          h('Subject', 'Réunion demain'),
          h('From', 'Bob <bob@example.com>'),
          h('To', ME),
          h('Content-Type', 'text/plain; charset="ISO-8859-1"'),
          h('Content-Transfer-Encoding', 'quoted-printable'),
        ],
      },
    },
    {
      id: '18f5ff00a1b2c3f3',
      threadId: '18f5ff00a1b2c3f3',
      labelIds: ['SENT'],
      snippet: 'Thanks, see you there.',
      internalDate: '1715497920000',
      historyId: '412250',
      payload: {
        ...text('Thanks, see you there.\r\n'),
        headers: [h('Date', 'Sun, 12 May 2024 09:12:00 +0200'), h('Message-ID', '<CAG=me.0003@mail.gmail.com>'), h('Subject', 'Re: Plans'), h('From', `Me <${ME}>`), h('To', 'carol@example.com'), h('In-Reply-To', '<plans.0000@example.com>'), h('References', '<plans.0000@example.com>'), h('Content-Type', 'text/plain; charset="UTF-8"')],
      },
    },
    {
      id: '18f55e00a1b2c3f4',
      threadId: '18f55e00a1b2c3f4',
      labelIds: ['Label_12', 'INBOX'],
      snippet: 'Invoice 2024-05 for your subscription: 42.00 EUR.',
      internalDate: '1715325120000',
      historyId: '412100',
      payload: {
        ...text('Invoice 2024-05 for your subscription: 42.00 EUR.\r\n'),
        headers: [h('Date', 'Fri, 10 May 2024 09:12:00 +0200'), h('Message-ID', '<inv.2024-05@billing.example.com>'), h('Subject', 'Invoice 2024-05'), h('From', 'billing@example.com'), h('To', ME), h('Content-Type', 'text/plain; charset="UTF-8"')],
      },
    },
    {
      id: '18f50000a1b2c3f5',
      threadId: '18f50000a1b2c3f5',
      labelIds: ['SPAM'],
      snippet: 'You won!',
      internalDate: '1715200000000',
      historyId: '412000',
      payload: { ...text('You won!\r\n'), headers: [h('Subject', 'You won!'), h('From', 'prize@spam.example'), h('To', ME), h('Date', 'Wed, 08 May 2024 22:26:40 +0200')] },
    },
  ];
  return new Map(messages.map((m) => [m.id, m]));
}

/** A header of a part record, case-insensitive. */
function header(part: GmailPartRecord, name: string): string | undefined {
  return part.headers.find((x) => x.name.toLowerCase() === name.toLowerCase())?.value;
}

/** The MessagePart JSON of Gmail's format=full: bodies base64url, attachments by id. */
function partJson(p: GmailPartRecord, partId: string): Record<string, unknown> {
  return {
    partId,
    mimeType: p.mimeType,
    filename: p.filename ?? '',
    headers: p.headers,
    body: p.parts ? { size: 0 } : p.attachmentId ? { attachmentId: p.attachmentId, size: p.size ?? 0 } : { size: p.data?.length ?? 0, data: (p.data ?? Buffer.alloc(0)).toString('base64url') },
    ...(p.parts ? { parts: p.parts.map((c, i) => partJson(c, partId === '' ? String(i) : `${partId}.${i}`)) } : {}),
  };
}

function plainText(p: GmailPartRecord): string {
  if (p.parts) return p.parts.map(plainText).join(' ');
  return p.mimeType.startsWith('text/') && p.data ? p.data.toString('utf8') : '';
}

/** Unfolds an RFC 2822 header block into name → values (decoding no encoded words). */
function parseRfc822(text: string): { headers: Map<string, string[]>; body: string } {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const headers = new Map<string, string[]>();
  for (const line of head.replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(i + 1).trim()]);
  }
  return { headers, body: end < 0 ? '' : text.slice(end + 4) };
}

export async function startFakeGmail(options: FakeGmailOptions = {}): Promise<FakeGmail> {
  const tokens = new Set(options.tokens ?? ['ya29.fixture_token_0001']);
  const messages = seed();
  const sent: SentRecord[] = [];
  let nextId = 0x18f7000000000;
  let nextDraft = 1000;
  let nextHistory = 500000;

  const json = (status: number, body: unknown): FakeResponse => ({ status, body });
  const notFound = () => googleError(404, 'Requested entity was not found.', 'notFound');
  const isMe = (r: FakeRequest) => r.params.userId === 'me' || r.params.userId === ME;
  const badUser = () => googleError(400, 'Invalid user id specified in request/Delegation denied', 'invalidArgument');

  const summary = (m: GmailRecord, format: string, metadataHeaders: string[]) => {
    const base = { id: m.id, threadId: m.threadId, labelIds: m.labelIds, snippet: m.snippet, sizeEstimate: 2048, historyId: m.historyId, internalDate: m.internalDate };
    if (format === 'minimal') return base;
    if (format === 'metadata') {
      const wanted = metadataHeaders.map((x) => x.toLowerCase());
      const headers = m.payload.headers.filter((x) => wanted.length === 0 || wanted.includes(x.name.toLowerCase()));
      return { ...base, payload: { partId: '', mimeType: m.payload.mimeType, filename: '', headers, body: { size: 0 } } };
    }
    return { ...base, payload: partJson(m.payload, '') };
  };

  /** A small subset of Gmail's search operators: from:, to:, subject:, is:, in:, label:, has:attachment, words. */
  const matches = (m: GmailRecord, q: string): boolean => {
    const labelByName = new Map(LABELS.map((l) => [l.name.toLowerCase(), l.id]));
    for (const term of q.toLowerCase().match(/\S+/g) ?? []) {
      const [op, value] = term.includes(':') ? [term.slice(0, term.indexOf(':')), term.slice(term.indexOf(':') + 1)] : ['', term];
      const field = (name: string) => (header(m.payload, name) ?? '').toLowerCase();
      if (op === 'from' || op === 'to' || op === 'subject') {
        if (!field(op).includes(value)) return false;
      } else if (op === 'is' || op === 'in' || op === 'label') {
        const id = labelByName.get(value) ?? value.toUpperCase();
        if (!m.labelIds.includes(id)) return false;
      } else if (op === 'has' && value === 'attachment') {
        if (!m.payload.parts?.some((p) => p.filename)) return false;
      } else if (op === '') {
        if (!`${field('subject')} ${m.snippet} ${plainText(m.payload)}`.toLowerCase().includes(value)) return false;
      }
      // Other operators (after:, newer_than:, …) are accepted and not applied.
    }
    return true;
  };

  const store = (kind: SentRecord['kind'], raw: unknown, threadId: unknown): FakeResponse | GmailRecord => {
    if (typeof raw !== 'string' || raw === '') return googleError(400, "'raw' RFC822 payload message string or uploading message via /upload/* URL required", 'invalidArgument');
    if (threadId !== undefined && (typeof threadId !== 'string' || ![...messages.values()].some((m) => m.threadId === threadId))) return notFound();
    const rfc822 = Buffer.from(raw, 'base64url').toString('utf8');
    const { headers, body } = parseRfc822(rfc822);
    if (kind === 'message' && !headers.has('to') && !headers.has('cc') && !headers.has('bcc')) return googleError(400, 'Recipient address required', 'invalidArgument');
    const id = (nextId++).toString(16);
    const record: GmailRecord = {
      id,
      threadId: (threadId as string | undefined) ?? id,
      labelIds: kind === 'message' ? ['SENT'] : ['DRAFT'],
      snippet: Buffer.from(body.replace(/\r\n/g, ''), 'base64').toString('utf8').slice(0, 100),
      internalDate: String(Date.now()),
      historyId: String(nextHistory++),
      payload: { mimeType: 'text/plain', headers: [...headers].flatMap(([name, values]) => values.map((value) => h(name, value))), data: Buffer.from(body, 'base64') },
    };
    messages.set(id, record);
    sent.push({ kind, id, threadId: record.threadId, raw, rfc822 });
    return record;
  };

  const provider = await startFakeProvider({
    prefix: '/gmail/v1',
    headers: { vary: 'Origin, X-Origin, Referer', 'x-content-type-options': 'nosniff' },
    gate: googleGate(tokens),
    routes: [
      {
        method: 'GET',
        path: '/users/:userId/messages',
        handle: (r) => {
          if (!isMe(r)) return badUser();
          const q = typeof r.query.q === 'string' ? r.query.q : '';
          const labelIds = [r.query.labelIds ?? []].flat();
          const spamTrash = r.query.includeSpamTrash === 'true';
          const max = Math.min(500, Math.max(1, Number(r.query.maxResults ?? 100) || 100));
          const offset = pageOffset(r.query.pageToken);
          if (offset === undefined) return googleError(400, 'Invalid pageToken', 'invalidArgument');
          const all = [...messages.values()]
            .filter((m) => spamTrash || !m.labelIds.some((l) => l === 'SPAM' || l === 'TRASH'))
            .filter((m) => !m.labelIds.includes('DRAFT'))
            .filter((m) => labelIds.every((l) => m.labelIds.includes(l)))
            .filter((m) => matches(m, q))
            .sort((a, b) => Number(b.internalDate) - Number(a.internalDate));
          const page = all.slice(offset, offset + max);
          if (page.length === 0) return json(200, { resultSizeEstimate: 0 });
          return json(200, {
            messages: page.map((m) => ({ id: m.id, threadId: m.threadId })),
            ...(offset + max < all.length ? { nextPageToken: pageToken(offset + max) } : {}),
            resultSizeEstimate: all.length,
          });
        },
      },
      {
        method: 'GET',
        path: '/users/:userId/messages/:id',
        handle: (r) => {
          if (!isMe(r)) return badUser();
          const m = messages.get(r.params.id!);
          if (!m) return notFound();
          const format = (r.query.format as string | undefined) ?? 'full';
          if (!['full', 'metadata', 'minimal'].includes(format)) return googleError(400, `Invalid value at 'format' (type.googleapis.com/google.apps.gmail.v1.Format), "${format}"`, 'invalid');
          return json(200, summary(m, format, [r.query.metadataHeaders ?? []].flat()));
        },
      },
      {
        method: 'POST',
        path: '/users/:userId/messages/send',
        handle: (r) => {
          if (!isMe(r)) return badUser();
          const b = (r.body ?? {}) as { raw?: unknown; threadId?: unknown };
          const stored = store('message', b.raw, b.threadId);
          return 'status' in stored ? stored : json(200, { id: stored.id, threadId: stored.threadId, labelIds: stored.labelIds });
        },
      },
      {
        method: 'POST',
        path: '/users/:userId/drafts',
        handle: (r) => {
          if (!isMe(r)) return badUser();
          const message = ((r.body ?? {}) as { message?: { raw?: unknown; threadId?: unknown } }).message;
          if (!message) return googleError(400, 'Invalid draft', 'invalidArgument');
          const stored = store('draft', message.raw, message.threadId);
          return 'status' in stored ? stored : json(200, { id: `r${nextDraft++}`, message: { id: stored.id, threadId: stored.threadId, labelIds: stored.labelIds } });
        },
      },
      { method: 'GET', path: '/users/:userId/labels', handle: (r) => (isMe(r) ? json(200, { labels: LABELS }) : badUser()) },
    ],
    notFound: () => ({ status: 404, body: 'Not Found' }),
  });

  return {
    ...provider,
    reset() {
      provider.reset();
      messages.clear();
      for (const [id, m] of seed()) messages.set(id, m);
      sent.length = 0;
    },
    tokens,
    messages,
    sent,
    tokensSeen: () => provider.requests.map((r) => bearerToken(r) ?? ''),
  };
}
