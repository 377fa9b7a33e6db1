/**
 * The MIME the Gmail tools read and write: a message's parts as Gmail's `format=full` gives
 * them (bodies base64url, in the part's charset), and the RFC 2822 / RFC 5322 text message
 * that `messages.send` and `drafts.create` take base64url-encoded in `raw`.
 */

export interface GmailHeader {
  readonly name: string;
  readonly value: string;
}

/** A MessagePart (developers.google.com/gmail/api/reference/rest/v1/users.messages#MessagePart). */
export interface GmailPart {
  readonly partId?: string;
  readonly mimeType?: string;
  readonly filename?: string;
  readonly headers?: readonly GmailHeader[];
  readonly body?: { readonly size?: number; readonly data?: string; readonly attachmentId?: string };
  readonly parts?: readonly GmailPart[];
}

/** The value of the first header of that name (case-insensitive), or null. */
export function headerValue(headers: readonly GmailHeader[] | undefined, name: string): string | null {
  const lower = name.toLowerCase();
  return headers?.find((h) => h.name.toLowerCase() === lower)?.value ?? null;
}

/** A body's text: base64url (Gmail's `body.data`) decoded in the part's charset, UTF-8 when unknown. */
export function decodeBody(data: string, charset: string | undefined): string {
  const bytes = Buffer.from(data, 'base64url');
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    // A charset label TextDecoder does not know.
    return new TextDecoder('utf-8').decode(bytes);
  }
}

function charsetOf(part: GmailPart): string | undefined {
  const type = headerValue(part.headers, 'Content-Type') ?? '';
  return /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(type)?.[1];
}

export interface Attachment {
  readonly filename: string;
  readonly mime_type: string;
  readonly size: number;
  readonly attachment_id: string | null;
}

export interface MessageBodies {
  /** The text/plain parts, in order; null when there is none. */
  readonly text: string | null;
  readonly html: string | null;
  readonly attachments: Attachment[];
}

/**
 * The readable bodies of a message: every inline text/plain and text/html leaf of the part
 * tree (multipart/alternative gives one of each, multipart/mixed may give several, joined),
 * and the attachments (parts with a filename), which are listed, not fetched.
 */
export function messageBodies(payload: GmailPart | undefined): MessageBodies {
  const text: string[] = [];
  const html: string[] = [];
  const attachments: Attachment[] = [];
  const visit = (part: GmailPart, depth: number) => {
    if (depth > 20) return;
    if (part.parts?.length) {
      for (const p of part.parts) visit(p, depth + 1);
      return;
    }
    const type = (part.mimeType ?? '').toLowerCase();
    const disposition = (headerValue(part.headers, 'Content-Disposition') ?? '').toLowerCase();
    if (part.filename || disposition.startsWith('attachment') || part.body?.attachmentId) {
      attachments.push({ filename: part.filename ?? '', mime_type: part.mimeType ?? 'application/octet-stream', size: part.body?.size ?? 0, attachment_id: part.body?.attachmentId ?? null });
      return;
    }
    if (!part.body?.data) return;
    if (type === 'text/plain') text.push(decodeBody(part.body.data, charsetOf(part)));
    else if (type === 'text/html') html.push(decodeBody(part.body.data, charsetOf(part)));
  };
  if (payload) visit(payload, 0);
  return { text: text.length ? text.join('\n') : null, html: html.length ? html.join('\n') : null, attachments };
}

// ---- writing ----------------------------------------------------------------------------

/** One address as the tools take it: `alice@example.com` or `Alice Example <alice@example.com>`. */
const ADDR = "[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(?:\\.[A-Za-z0-9-]{1,63})+";
export const ADDRESS_PATTERN = `^(?:${ADDR}|[^<>\\r\\n]{1,100}<${ADDR}>)$`;
/** A Message-ID as in the Message-ID header, angle brackets included. */
export const MESSAGE_ID_PATTERN = '^<[!-;=?-~]{1,250}>$';

export interface OutgoingMail {
  readonly to?: readonly string[];
  readonly cc?: readonly string[];
  readonly bcc?: readonly string[];
  readonly subject?: string;
  readonly body: string;
  readonly inReplyTo?: string;
  readonly references?: readonly string[];
}

const CRLF = '\r\n';
/** printable ASCII, no "=?" that a reader could take for an encoded word. */
const PLAIN_HEADER_TEXT = /^[\x20-\x7e]*$/;

/**
 * Header text as RFC 2047 encoded words (`=?UTF-8?B?…?=`) when it is not plain ASCII: each
 * word at most 75 characters and whole UTF-8 characters, folded onto continuation lines.
 */
export function encodeHeaderText(text: string): string {
  if (PLAIN_HEADER_TEXT.test(text) && !text.includes('=?')) return text;
  const words: string[] = [];
  let chunk = '';
  // 45 bytes → 60 base64 characters, + 12 for "=?UTF-8?B?" and "?=" = 72 ≤ 75.
  for (const ch of text) {
    if (Buffer.byteLength(chunk + ch, 'utf8') > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(`${CRLF} `);
}

/** `Name <addr>` with the name quoted or encoded as RFC 5322 and 2047 require; a bare address as is. */
export function formatAddress(address: string): string {
  const m = /^(.*?)\s*<([^<>]+)>$/.exec(address.trim());
  const [, quoted = '', addr] = m ?? [];
  if (addr === undefined) return address.trim();
  let name = quoted.trim();
  if (name.length >= 2 && name.startsWith('"') && name.endsWith('"')) name = name.slice(1, -1).replace(/\\(.)/g, '$1');
  if (name === '') return `<${addr}>`;
  if (!PLAIN_HEADER_TEXT.test(name) || name.includes('=?')) return `${encodeHeaderText(name)} <${addr}>`;
  // RFC 5322 specials make the name a quoted-string.
  if (/[()<>[\]:;@\\,."]/.test(name)) return `"${name.replace(/(["\\])/g, '\\$1')}" <${addr}>`;
  return `${name} <${addr}>`;
}

function addressHeader(name: string, list: readonly string[] | undefined): string[] {
  if (!list?.length) return [];
  return [`${name}: ${list.map(formatAddress).join(`,${CRLF} `)}`];
}

function noLineBreak(value: string, what: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`${what} must be one line`);
  return value;
}

/**
 * An RFC 5322 message with a UTF-8 text/plain body (base64, 76-character lines, CRLF line
 * ends). From, Date and Message-ID are left out: Gmail sets them for the signed-in user.
 */
export function buildMessage(mail: OutgoingMail): string {
  for (const a of [...(mail.to ?? []), ...(mail.cc ?? []), ...(mail.bcc ?? [])]) noLineBreak(a, 'an address');
  const lines = [
    ...addressHeader('To', mail.to),
    ...addressHeader('Cc', mail.cc),
    // Gmail sends to Bcc recipients and removes the header from what others receive.
    ...addressHeader('Bcc', mail.bcc),
    `Subject: ${encodeHeaderText(noLineBreak(mail.subject ?? '', 'subject'))}`,
  ];
  if (mail.inReplyTo) lines.push(`In-Reply-To: ${noLineBreak(mail.inReplyTo, 'in_reply_to')}`);
  const references = mail.references?.length ? mail.references : mail.inReplyTo ? [mail.inReplyTo] : [];
  if (references.length) lines.push(`References: ${references.map((r) => noLineBreak(r, 'a reference')).join(`${CRLF} `)}`);
  lines.push('MIME-Version: 1.0', 'Content-Type: text/plain; charset="UTF-8"', 'Content-Transfer-Encoding: base64');
  const body = Buffer.from(mail.body.replace(/\r?\n/g, CRLF), 'utf8').toString('base64');
  const bodyLines = body.match(/.{1,76}/g) ?? [];
  return [...lines, '', ...bodyLines].join(CRLF) + CRLF;
}

/** A message as Gmail's `raw` field takes it: base64url (RFC 4648 §5). */
export function rawMessage(mail: OutgoingMail): string {
  return Buffer.from(buildMessage(mail), 'utf8').toString('base64url');
}
