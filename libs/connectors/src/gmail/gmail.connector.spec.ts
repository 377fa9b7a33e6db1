import { isVmcpError, type AuthType, type CallToolResult, type ConnectionTarget } from '@vmcp/contracts';
import { startFakeGmail, type FakeGmail } from '@vmcp/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CredentialRequest, ResolvedCredential } from '../connector.js';
import { NativeConnector } from '../native/native.connector.js';
import { ajv, errorText, structuredResult } from '../native/native-spec.fixture.js';
import { gmail } from './gmail.connector.js';

const TOKEN = 'ya29.fixture_token_0001';
const REFRESHED = 'ya29.refreshed_token_0002';
const A = '18f6a1c2b3d4e5f1';
const B = '18f6a0b1c2d3e4f2';
const METADATA = { format: 'metadata', metadataHeaders: ['From', 'To', 'Subject', 'Date'] };

let gm: FakeGmail;

function setup(options: { authType?: AuthType; tokens?: string[] } = {}) {
  const tokens = [...(options.tokens ?? [TOKEN])];
  const authType = options.authType ?? 'oauth2';
  const resolveCredential = vi.fn(async (r: CredentialRequest): Promise<ResolvedCredential> => {
    // The vault hands out the next token when told which one was refused.
    if (r.rejectedToken && tokens.length > 1 && tokens[0] === r.rejectedToken) tokens.shift();
    return { auth_type: authType, secret: { token: tokens[0]! } };
  });
  const connector = new NativeConnector(gmail, { resolveCredential }, { retry: { baseDelayMs: 10, maxDelayMs: 20 } });
  const connection: ConnectionTarget = { id: 'conn_gm', name: 'gmail', connector: 'gmail', auth_type: authType, settings: { base_url: gm.url } };
  const ctx = { tenantId: 'ten_1', connection, accountId: 'ca_alice', grant: 'grant.jwt' };
  const call = (name: string, args: Record<string, unknown>) => connector.callTool(ctx, name, args, { timeoutMs: 5000 });
  return { connector, resolveCredential, call };
}

const structured = (name: string, result: CallToolResult) => structuredResult(gmail, name, result);

/** The RFC 2822 text a `raw` field carries. */
const decodeRaw = (raw: unknown) => Buffer.from(raw as string, 'base64url').toString('utf8');
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

beforeAll(async () => {
  gm = await startFakeGmail();
});
afterAll(async () => {
  await gm.close();
});
beforeEach(() => gm.reset());

describe('gmail connector: catalog', () => {
  it('lists its five tools with true annotations, and Google\'s OAuth endpoints', async () => {
    const { connector } = setup();
    const tools = await connector.listTools();
    expect(tools.map((t) => t.name)).toEqual(['gmail_fetch_mails', 'gmail_get_message', 'gmail_send_mail', 'gmail_create_draft', 'gmail_list_labels']);
    const byName = Object.fromEntries(tools.map((t) => [t.name, t.annotations]));
    expect(byName.gmail_fetch_mails).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
    expect(byName.gmail_send_mail).toEqual({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true });
    expect(byName.gmail_create_draft).toEqual(byName.gmail_send_mail);
    expect(gmail.info).toMatchObject({
      id: 'gmail',
      auth_types: ['oauth2', 'bearer_token'],
      oauth: {
        authorize_url: 'https://accounts.google.com/o/oauth2/v2/auth?access_type=offline&prompt=consent',
        token_url: 'https://oauth2.googleapis.com/token',
        revocation_url: 'https://oauth2.googleapis.com/revoke',
        scopes: ['https://www.googleapis.com/auth/gmail.modify'],
      },
    });
    expect(gmail.info.validateSettings({}, 'oauth2')).toBeUndefined();
  });

  it('input schemas refuse header injection and out-of-range values', () => {
    const send = ajv.compile(gmail.tool('gmail_send_mail')!.inputSchema);
    const ok = { to: ['Alice Example <alice@example.com>', 'bob@example.com'], subject: 'Hi', body: 'Hello' };
    expect(send(ok)).toBe(true);
    expect(send({ ...ok, in_reply_to: '<CAF=abc@mail.gmail.com>', references: ['<a@b>', '<CAF=abc@mail.gmail.com>'], thread_id: '18f6a1c2b3d4e5f1' })).toBe(true);
    expect(send({ ...ok, to: [] })).toBe(false);
    expect(send({ ...ok, to: ['bob@example.com\r\nBcc: eve@example.com'] })).toBe(false);
    expect(send({ ...ok, subject: 'Hi\r\nBcc: eve@example.com' })).toBe(false);
    expect(send({ ...ok, in_reply_to: 'no-brackets@example.com' })).toBe(false);
    expect(send({ ...ok, from: 'ceo@example.com' })).toBe(false);
    const fetch = ajv.compile(gmail.tool('gmail_fetch_mails')!.inputSchema);
    expect(fetch({})).toBe(true);
    expect(fetch({ query: 'is:unread', label_ids: ['INBOX', 'Label_12'], max_results: 50, page_token: 'abc', include_spam_trash: true })).toBe(true);
    expect(fetch({ max_results: 51 })).toBe(false);
    expect(fetch({ label_ids: ['../x'] })).toBe(false);
  });
});

describe('gmail connector: requests and results', () => {
  it('gmail_fetch_mails lists with q and repeated labelIds, then reads each message\'s metadata', async () => {
    const { call } = setup();
    const result = structured('gmail_fetch_mails', await call('gmail_fetch_mails', { query: 'from:alice@example.com', label_ids: ['INBOX', 'UNREAD'], max_results: 5 }));
    expect(gm.requests.map(({ method, path, query, body }) => ({ method, path, query, body }))).toEqual([
      { method: 'GET', path: '/gmail/v1/users/me/messages', query: { q: 'from:alice@example.com', labelIds: ['INBOX', 'UNREAD'], maxResults: '5' }, body: undefined },
      { method: 'GET', path: `/gmail/v1/users/me/messages/${A}`, query: METADATA, body: undefined },
    ]);
    for (const r of gm.requests) expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(result).toEqual({
      messages: [
        {
          id: A,
          thread_id: A,
          label_ids: ['IMPORTANT', 'CATEGORY_PERSONAL', 'UNREAD', 'INBOX'],
          from: 'Alice Example <alice@example.com>',
          to: 'me@example.com',
          subject: 'Q2 report',
          date: 'Tue, 14 May 2024 09:12:00 +0200',
          internal_date: '2024-05-14T07:12:00.000Z',
          snippet: 'Hi, the Q2 report is attached. Café ☕ at 10?',
        },
      ],
      next_page_token: null,
      result_size_estimate: 1,
    });
  });

  it('gmail_fetch_mails pages with nextPageToken → pageToken', async () => {
    const { call } = setup();
    const first = structured('gmail_fetch_mails', await call('gmail_fetch_mails', { label_ids: ['INBOX'], max_results: 2 }));
    expect((first.messages as Array<{ id: string }>).map((m) => m.id)).toEqual([A, B]);
    expect(first.next_page_token).toEqual(expect.any(String));
    expect(first.result_size_estimate).toBe(3);

    gm.reset();
    const second = structured('gmail_fetch_mails', await call('gmail_fetch_mails', { label_ids: ['INBOX'], max_results: 2, page_token: first.next_page_token }));
    expect(gm.requests[0]).toMatchObject({ path: '/gmail/v1/users/me/messages', query: { labelIds: 'INBOX', maxResults: '2', pageToken: first.next_page_token } });
    expect(second).toMatchObject({ messages: [{ id: '18f55e00a1b2c3f4', subject: 'Invoice 2024-05', from: 'billing@example.com' }], next_page_token: null });
  });

  it('gmail_fetch_mails with no match returns an empty list without reading any message', async () => {
    const { call } = setup();
    expect(structured('gmail_fetch_mails', await call('gmail_fetch_mails', { query: 'subject:nothing-like-this' }))).toEqual({ messages: [], next_page_token: null, result_size_estimate: 0 });
    expect(gm.requests).toHaveLength(1);
    expect(gm.requests[0]!.query).toEqual({ q: 'subject:nothing-like-this', maxResults: '10' });
  });

  it('gmail_get_message decodes the multipart bodies and lists attachments', async () => {
    const { call } = setup();
    const message = structured('gmail_get_message', await call('gmail_get_message', { id: A }));
    expect(gm.requests[0]).toMatchObject({ method: 'GET', path: `/gmail/v1/users/me/messages/${A}`, query: { format: 'full' } });
    expect(message).toEqual({
      id: A,
      thread_id: A,
      label_ids: ['IMPORTANT', 'CATEGORY_PERSONAL', 'UNREAD', 'INBOX'],
      snippet: 'Hi, the Q2 report is attached. Café ☕ at 10?',
      internal_date: '2024-05-14T07:12:00.000Z',
      headers: {
        from: 'Alice Example <alice@example.com>',
        to: 'me@example.com',
        cc: 'Bob <bob@example.com>',
        bcc: null,
        reply_to: null,
        subject: 'Q2 report',
        date: 'Tue, 14 May 2024 09:12:00 +0200',
        message_id: '<CAF=q2report.0001@mail.example.com>',
        in_reply_to: null,
        references: null,
      },
      text: 'Hi,\r\nthe Q2 report is attached. Café ☕ at 10?\r\nAlice\r\n',
      html: '<div dir="ltr">Hi,<br>the Q2 report is attached. Café ☕ at 10?<br>Alice</div>\r\n',
      truncated: false,
      attachments: [{ filename: 'q2-report.pdf', mime_type: 'application/pdf', size: 52341, attachment_id: 'ANGjdJ9fkTs-i3GCQo5o97f_itG0Ja4pGqTNWyFpYjlCuRZx2mbbhcTf' }],
    });
  });

  it('gmail_get_message decodes a single-part body in its charset, and cuts long bodies', async () => {
    const { call } = setup();
    const latin = structured('gmail_get_message', await call('gmail_get_message', { id: B }));
    expect(latin).toMatchObject({ text: 'À demain à 10h, salle 4.\r\n', html: null, attachments: [], headers: { subject: 'Réunion demain' } });

    gm.messages.get(B)!.payload.data = Buffer.from('x'.repeat(150), 'latin1');
    const cut = structured('gmail_get_message', await call('gmail_get_message', { id: B, max_body_chars: 100 }));
    expect(cut).toMatchObject({ text: 'x'.repeat(100), truncated: true });
  });

  it('gmail_send_mail posts an RFC 2822 message as base64url raw, with reply headers and threadId', async () => {
    const { call } = setup();
    const subject = 'Re: Q2 report – Café ☕';
    const sent = structured(
      'gmail_send_mail',
      await call('gmail_send_mail', {
        to: ['Alice Example <alice@example.com>', 'bob@example.com'],
        cc: ['"Smith, Carol" <carol@example.com>', 'Zoë <zoe@example.com>'],
        bcc: ['dave@example.com'],
        subject,
        body: 'Looks good.\nThanks!',
        thread_id: A,
        in_reply_to: '<CAF=q2report.0001@mail.example.com>',
      }),
    );
    const [req] = gm.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/gmail/v1/users/me/messages/send', query: {} });
    expect(req!.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' });
    const body = req!.body as { raw: string; threadId: string };
    expect(Object.keys(body).sort()).toEqual(['raw', 'threadId']);
    expect(body.threadId).toBe(A);
    expect(body.raw).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeRaw(body.raw)).toBe(
      [
        'To: Alice Example <alice@example.com>,',
        ' bob@example.com',
        'Cc: "Smith, Carol" <carol@example.com>,',
        ` =?UTF-8?B?${b64('Zoë')}?= <zoe@example.com>`,
        'Bcc: dave@example.com',
        `Subject: =?UTF-8?B?${b64(subject)}?=`,
        'In-Reply-To: <CAF=q2report.0001@mail.example.com>',
        'References: <CAF=q2report.0001@mail.example.com>',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset="UTF-8"',
        'Content-Transfer-Encoding: base64',
        '',
        b64('Looks good.\r\nThanks!'),
        '',
      ].join('\r\n'),
    );
    expect(sent).toEqual({ id: gm.sent[0]!.id, thread_id: A, label_ids: ['SENT'] });
  });

  it('gmail_create_draft posts {message: {raw}} and may leave recipients out', async () => {
    const { call } = setup();
    const draft = structured('gmail_create_draft', await call('gmail_create_draft', { subject: 'Notes', body: 'Draft text' }));
    const [req] = gm.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/gmail/v1/users/me/drafts' });
    expect(Object.keys(req!.body as object)).toEqual(['message']);
    const message = (req!.body as { message: Record<string, unknown> }).message;
    expect(Object.keys(message)).toEqual(['raw']);
    expect(decodeRaw(message.raw)).toBe(
      ['Subject: Notes', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset="UTF-8"', 'Content-Transfer-Encoding: base64', '', b64('Draft text'), ''].join('\r\n'),
    );
    expect(draft).toEqual({ draft_id: 'r1000', message_id: gm.sent[0]!.id, thread_id: gm.sent[0]!.id });
    expect(gm.sent[0]!.kind).toBe('draft');
  });

  it('gmail_list_labels maps system and user labels', async () => {
    const { call } = setup();
    const result = structured('gmail_list_labels', await call('gmail_list_labels', {}));
    expect(gm.requests[0]).toMatchObject({ method: 'GET', path: '/gmail/v1/users/me/labels', query: {} });
    const labels = result.labels as Array<Record<string, string>>;
    expect(labels).toHaveLength(16);
    expect(labels).toContainEqual({ id: 'INBOX', name: 'INBOX', type: 'system' });
    expect(labels.slice(-2)).toEqual([
      { id: 'Label_12', name: 'Work', type: 'user' },
      { id: 'Label_13', name: 'Receipts', type: 'user' },
    ]);
  });
});

describe('gmail connector: failures', () => {
  it('Google\'s 404 and 400 are tool errors with Google\'s message', async () => {
    const { call } = setup();
    expect(errorText(await call('gmail_get_message', { id: 'ffff0000ffff0000' }))).toBe('Gmail answered HTTP 404: Requested entity was not found.');
    expect(errorText(await call('gmail_fetch_mails', { page_token: 'not-a-token' }))).toBe('Gmail answered HTTP 400: Invalid pageToken');
    expect(errorText(await call('gmail_send_mail', { to: ['a@example.com'], subject: 'x', body: 'y', thread_id: 'ffff0000ffff0000' }))).toBe(
      'Gmail answered HTTP 404: Requested entity was not found.',
    );
    expect(gm.sent).toHaveLength(0);
  });

  it('an access token refused with 401 is refreshed once through the vault, and the call goes through', async () => {
    gm.tokens.add(REFRESHED);
    gm.tokens.delete(TOKEN);
    try {
      const { call, resolveCredential } = setup({ tokens: [TOKEN, REFRESHED] });
      const result = structured('gmail_fetch_mails', await call('gmail_fetch_mails', { query: 'subject:invoice' }));
      expect(result.messages).toMatchObject([{ subject: 'Invoice 2024-05' }]);
      expect(resolveCredential.mock.calls.map(([r]) => r)).toEqual([
        { tenantId: 'ten_1', accountId: 'ca_alice', grant: 'grant.jwt' },
        { tenantId: 'ten_1', accountId: 'ca_alice', grant: 'grant.jwt', rejectedToken: TOKEN },
      ]);
      expect(gm.tokensSeen()).toEqual([TOKEN, REFRESHED, REFRESHED]);
    } finally {
      gm.tokens.add(TOKEN);
      gm.tokens.delete(REFRESHED);
    }
  });

  it('a token refused again after the refresh asks the user to re-authorize', async () => {
    const { call } = setup({ tokens: ['ya29.revoked_1', 'ya29.revoked_2'] });
    const err = await call('gmail_list_labels', {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isVmcpError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE' });
    expect((err as Error).message).not.toContain('ya29');
  });

  it('a 429 with Retry-After is waited out for a read, never retried for a send', async () => {
    const { call } = setup();
    const limited = {
      status: 429,
      headers: { 'retry-after': '1' },
      body: { error: { code: 429, message: 'User-rate limit exceeded.', errors: [{ message: 'User-rate limit exceeded.', domain: 'usageLimits', reason: 'rateLimitExceeded' }], status: 'RESOURCE_EXHAUSTED' } },
    };
    gm.override({ path: '/gmail/v1/users/me/labels' }, limited);
    const started = Date.now();
    expect(structured('gmail_list_labels', await call('gmail_list_labels', {})).labels).toHaveLength(16);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(gm.requests).toHaveLength(2);

    gm.reset();
    gm.override({ method: 'POST' }, limited);
    expect(errorText(await call('gmail_send_mail', { to: ['a@example.com'], subject: 'x', body: 'y' }))).toBe('Gmail answered HTTP 429: User-rate limit exceeded. (retry after 1 s)');
    expect(gm.requests).toHaveLength(1);
    expect(gm.sent).toHaveLength(0);
  });
});
