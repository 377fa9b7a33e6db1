import { describe, expect, it } from 'vitest';
import { buildAuthHeaders } from './auth-headers.js';

describe('buildAuthHeaders', () => {
  it('puts each credential where its auth type says', () => {
    expect(buildAuthHeaders('bearer_token', { token: 't1' })).toEqual({ Authorization: 'Bearer t1' });
    expect(buildAuthHeaders('api_key', { api_key: 'k1' })).toEqual({ 'X-API-Key': 'k1' });
    expect(buildAuthHeaders('api_key', { api_key: 'k1' }, 'X-Token')).toEqual({ 'X-Token': 'k1' });
    expect(buildAuthHeaders('basic', { username: 'u', password: 'p:w' })).toEqual({ Authorization: `Basic ${Buffer.from('u:p:w').toString('base64')}` });
    expect(buildAuthHeaders('custom_headers', { headers: { 'X-A': '1', 'X-B': '2' } })).toEqual({ 'X-A': '1', 'X-B': '2' });
    expect(buildAuthHeaders('none', undefined)).toEqual({});
  });

  it('refuses a credential of the wrong shape without echoing it', () => {
    expect(() => buildAuthHeaders('bearer_token', { api_key: 'secret-value' })).toThrow(/does not fit auth type bearer_token/);
    try {
      buildAuthHeaders('basic', { token: 'secret-value' });
    } catch (err) {
      expect(String(err)).not.toContain('secret-value');
    }
  });
});
