import { createHash } from 'node:crypto';
import { audit, canonicalJson } from '@vmcp/contracts';
import { describe, expect, it } from 'vitest';
import { argumentsFields, capture, redact, REDACTED, resultFields } from './audit-payloads.js';

describe('audit payloads', () => {
  it('describes arguments by size and SHA-256 of their canonical JSON, and keeps them only on opt-in', () => {
    const args = { b: 'ünï', a: [1, 2] };
    const text = canonicalJson(args);
    const fields = argumentsFields(args, false);
    expect(fields).toEqual({ arguments_size: Buffer.byteLength(text), arguments_sha256: createHash('sha256').update(text).digest('hex') });
    expect(argumentsFields({ a: [1, 2], b: 'ünï' }, false)).toEqual(fields);
    expect(argumentsFields(args, true)).toEqual({ ...fields, arguments: args });
    expect(Object.keys(resultFields({ content: [] }, false)).sort()).toEqual(['result_sha256', 'result_size']);
  });

  it('redacts secret-looking keys at any depth, whatever their case, and credential-shaped values', () => {
    const args = {
      query: 'shoes',
      Password: 'hunter2',
      nested: { API_KEY: 'k1', list: [{ Authorization: 'Bearer abc' }, { 'X-Refresh-Token': 't' }], clientSecret: 's', note: 'header was authorization: Bearer xyz.abc, ok' },
      cookie: { session: 'c' },
      private_key: 'p',
      jwt_like: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig',
      basic: 'Basic YWxpY2U6c2VjcmV0',
      pem: 'key:\n-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n',
      prose: 'a basic plan',
      credentials: ['a'],
    };
    const copy = structuredClone(args);
    expect(redact(args)).toEqual({
      query: 'shoes',
      Password: REDACTED,
      nested: { API_KEY: REDACTED, list: [{ Authorization: REDACTED }, { 'X-Refresh-Token': REDACTED }], clientSecret: REDACTED, note: 'header was authorization: Bearer [REDACTED], ok' },
      cookie: REDACTED,
      private_key: REDACTED,
      jwt_like: REDACTED,
      basic: REDACTED,
      pem: 'key:\n[REDACTED]\n',
      prose: 'a basic plan',
      credentials: REDACTED,
    });
    // The call itself goes on with the original arguments.
    expect(args).toEqual(copy);
  });

  it('replaces a captured payload over the cap by a marker with the start of its JSON', () => {
    const big = { text: 'x'.repeat(audit.AUDIT_CAPTURE_MAX_BYTES + 10) };
    const captured = capture(big) as { vmcp_truncated: boolean; size: number; preview: string };
    expect(captured.vmcp_truncated).toBe(true);
    expect(captured.size).toBe(Buffer.byteLength(canonicalJson(big)));
    expect(Buffer.byteLength(captured.preview)).toBeLessThanOrEqual(audit.AUDIT_CAPTURE_MAX_BYTES);
    expect(captured.preview.startsWith('{"text":"xxx')).toBe(true);
  });
});
