import { describe, expect, it } from 'vitest';
import { BoundedLabel, errorCodeOf, isSafeLabelValue, oneOf } from './metric-labels.js';

describe('metric label values', () => {
  it('accepts the bounded names labels are made of', () => {
    for (const v of ['echo', 'github__create_issue', 'mcp', 'vmcp.policy.v1.decide', '/api/v1/connections/:name', '/mcp/:configId', 'DEADLINE_EXCEEDED', 'gmail_sendmail', 'tool-v2']) {
      expect(isSafeLabelValue(v), v).toBe(true);
    }
  });

  it('refuses ids, tokens, keys and anything long or free-form', () => {
    const refused = [
      'ca_7Hq2kLm9PzX4vB1nC8dR0s', // a connected-account id
      'tok_Ab12Cd34Ef56', // a token id
      'exe_0123456789abcdefABCDEF',
      'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhbGljZSJ9.c2ln', // a JWT
      'vmcp_admin_Zx8rT2mNq4Lw9Ks1Hv5Bj7', // an API key
      'ghp_1a2B3c4D5e6F7g8H9i0JkLmNoPq', // a provider token
      '3f2c9a1e-4b7d-4e8a-9c2f-0d1e2f3a4b5c', // a uuid
      'sha-9f86d081884c7d659a2feaa0c55ad015', // a digest
      'alice@example.com',
      'text with spaces',
      'x'.repeat(97),
      '',
    ];
    for (const v of refused) expect(isSafeLabelValue(v), v).toBe(false);
  });

  it('collapses values beyond the cap, and unsafe ones, into "other"; a missing value is "none"', () => {
    const tools = new BoundedLabel(2);
    expect(tools.value('echo')).toBe('echo');
    expect(tools.value('add')).toBe('add');
    expect(tools.value('third')).toBe('other');
    expect(tools.value('echo')).toBe('echo'); // admitted values keep their series
    expect(tools.value('tok_Ab12Cd34Ef56')).toBe('other');
    expect(tools.value(null)).toBe('none');
    expect(tools.size).toBe(2);
    expect(new BoundedLabel(5, 'unresolved').value(undefined)).toBe('unresolved');
  });

  it('keeps closed sets closed and reads error codes by shape only', () => {
    expect(oneOf('GET', ['GET', 'POST'])).toBe('GET');
    expect(oneOf('BREW', ['GET', 'POST'])).toBe('other');
    expect(errorCodeOf({ code: 'DEADLINE_EXCEEDED', message: 'policy did not answer' })).toBe('DEADLINE_EXCEEDED');
    expect(errorCodeOf({ code: 'secret-token-value' })).toBe('INTERNAL');
    expect(errorCodeOf(new Error('boom'))).toBe('INTERNAL');
    expect(errorCodeOf(undefined)).toBe('INTERNAL');
  });
});
