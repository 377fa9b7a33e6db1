import { describe, expect, it } from 'vitest';
import { buildAuthHeaders, credentialStrings } from './auth-headers.js';

describe('buildAuthHeaders', () => {
  it('puts each credential where its auth type says, and nothing more', () => {
    expect(buildAuthHeaders('bearer_token', { token: 't1' })).toEqual({ Authorization: 'Bearer t1' });
    expect(buildAuthHeaders('oauth2', { token: 'access-1' })).toEqual({ Authorization: 'Bearer access-1' });
    expect(buildAuthHeaders('api_key', { api_key: 'k1' })).toEqual({ 'X-API-Key': 'k1' });
    expect(buildAuthHeaders('api_key', { api_key: 'k1' }, 'X-Token')).toEqual({ 'X-Token': 'k1' });
    expect(buildAuthHeaders('api_key', { api_key: 'k1' }, '')).toEqual({ 'X-API-Key': 'k1' });
    expect(buildAuthHeaders('basic', { username: 'u', password: 'p:w' })).toEqual({ Authorization: `Basic ${Buffer.from('u:p:w').toString('base64')}` });
    expect(buildAuthHeaders('basic', { username: 'ü', password: '' })).toEqual({ Authorization: `Basic ${Buffer.from('ü:', 'utf8').toString('base64')}` });
    expect(buildAuthHeaders('custom_headers', { headers: { 'X-A': '1', 'X-B': '2' } })).toEqual({ 'X-A': '1', 'X-B': '2' });
    expect(buildAuthHeaders('none', undefined)).toEqual({});
    // A stored secret never turns a `none` connection into an authenticated one.
    expect(buildAuthHeaders('none', { token: 'stray' })).toEqual({});
  });

  it('refuses a credential of the wrong shape without echoing it', () => {
    expect(() => buildAuthHeaders('bearer_token', { api_key: 'secret-value' })).toThrow('stored credential does not fit auth type bearer_token');
    expect(() => buildAuthHeaders('api_key', undefined)).toThrow('stored credential does not fit auth type api_key');
    expect(() => buildAuthHeaders('basic', { token: 'secret-value' })).toThrow(expect.objectContaining({ message: expect.not.stringContaining('secret-value') }));
  });

  it('never lets a credential take over a transport header or smuggle one in', () => {
    for (const reserved of ['Mcp-Session-Id', 'content-type', 'Host', 'Accept']) {
      expect(() => buildAuthHeaders('custom_headers', { headers: { [reserved]: 'x' } })).toThrow(`credential may not set the reserved header ${reserved}`);
    }
    expect(() => buildAuthHeaders('api_key', { api_key: 'k' }, 'mcp-protocol-version')).toThrow(/reserved header/);
    expect(() => buildAuthHeaders('api_key', { api_key: 'k' }, 'Bad Header')).toThrow(/not a valid HTTP header name/);
    const smuggle = () => buildAuthHeaders('bearer_token', { token: 'secret\r\nX-Evil: 1' });
    expect(smuggle).toThrow('credential header Authorization holds characters a header cannot carry');
    expect(smuggle).toThrow(expect.objectContaining({ message: expect.not.stringContaining('secret') }));
  });
});

describe('credentialStrings', () => {
  it('lists the header values and the raw parts they are made of', () => {
    const secret = { username: 'erin', password: 'pa55word' };
    const headers = buildAuthHeaders('basic', secret);
    expect(credentialStrings(secret, headers).sort()).toEqual([headers.Authorization, 'pa55word'].sort());
    const token = { token: 'tok-1' };
    expect(credentialStrings(token, buildAuthHeaders('bearer_token', token)).sort()).toEqual(['Bearer tok-1', 'tok-1']);
    expect(credentialStrings(undefined, {})).toEqual([]);
  });
});
