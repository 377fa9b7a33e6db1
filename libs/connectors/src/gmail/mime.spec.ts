import { describe, expect, it } from 'vitest';
import { buildMessage, encodeHeaderText, formatAddress, messageBodies } from './mime.js';

/** RFC 2047 B-encoded words back to text, as a mail reader would. */
function decodeWords(folded: string): string {
  return folded
    .split('\r\n ')
    .map((w) => {
      const m = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=$/.exec(w);
      expect(m, w).not.toBeNull();
      return Buffer.from(m![1]!, 'base64');
    })
    .reduce((all, b) => Buffer.concat([all, b]), Buffer.alloc(0))
    .toString('utf8');
}

describe('gmail MIME', () => {
  it('leaves plain ASCII header text alone', () => {
    expect(encodeHeaderText('Quarterly report (Q2)')).toBe('Quarterly report (Q2)');
  });

  it('encodes non-ASCII text as folded words of at most 75 characters, never splitting a character', () => {
    const subject = 'Réunion 📅 über die Übersicht – 会議の議事録 '.repeat(4);
    const encoded = encodeHeaderText(subject);
    for (const word of encoded.split('\r\n ')) expect(word.length).toBeLessThanOrEqual(75);
    expect(decodeWords(encoded)).toBe(subject);
    // Text that could be read as an encoded word is encoded too.
    expect(decodeWords(encodeHeaderText('=?UTF-8?B?x?='))).toBe('=?UTF-8?B?x?=');
  });

  it('quotes or encodes display names as RFC 5322 and 2047 require', () => {
    expect(formatAddress('bob@example.com')).toBe('bob@example.com');
    expect(formatAddress('Bob Smith <bob@example.com>')).toBe('Bob Smith <bob@example.com>');
    expect(formatAddress('Smith, Bob <bob@example.com>')).toBe('"Smith, Bob" <bob@example.com>');
    expect(formatAddress('"Smith, Bob" <bob@example.com>')).toBe('"Smith, Bob" <bob@example.com>');
    expect(formatAddress('Bob "the builder" <bob@example.com>')).toBe('"Bob \\"the builder\\"" <bob@example.com>');
    expect(formatAddress('José <jose@example.com>')).toBe(`=?UTF-8?B?${Buffer.from('José').toString('base64')}?= <jose@example.com>`);
  });

  it('refuses a header value with a line break', () => {
    expect(() => buildMessage({ to: ['a@example.com'], subject: 'x\r\nBcc: eve@example.com', body: '' })).toThrow(/subject must be one line/);
  });

  it('wraps the base64 body at 76 characters with CRLF line ends', () => {
    const message = buildMessage({ to: ['a@example.com'], subject: 's', body: 'line\n'.repeat(40) });
    const body = message.split('\r\n\r\n')[1]!;
    const lines = body.split('\r\n').filter(Boolean);
    expect(lines.every((l) => l.length <= 76)).toBe(true);
    expect(Buffer.from(lines.join(''), 'base64').toString('utf8')).toBe('line\r\n'.repeat(40));
  });

  it('reads nested multiparts and unknown charsets', () => {
    const data = (s: string, enc: BufferEncoding = 'utf8') => Buffer.from(s, enc).toString('base64url');
    const bodies = messageBodies({
      mimeType: 'multipart/mixed',
      parts: [
        { mimeType: 'multipart/related', parts: [{ mimeType: 'multipart/alternative', parts: [{ mimeType: 'text/plain', body: { data: data('plain') } }, { mimeType: 'text/html', body: { data: data('<b>html</b>') } }] }] },
        { mimeType: 'text/plain', headers: [{ name: 'Content-Type', value: 'text/plain; charset=x-unknown' }], body: { data: data('second') } },
        { mimeType: 'image/png', filename: 'a.png', body: { attachmentId: 'att1', size: 10 } },
      ],
    });
    expect(bodies).toEqual({ text: 'plain\nsecond', html: '<b>html</b>', attachments: [{ filename: 'a.png', mime_type: 'image/png', size: 10, attachment_id: 'att1' }] });
  });
});
