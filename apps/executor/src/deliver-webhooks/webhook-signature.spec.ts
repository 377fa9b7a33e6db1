import { createHmac, randomBytes, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { webhookHeaders, webhookSignature } from './webhook-signature.js';

describe('webhook signature', () => {
  it('matches the Standard Webhooks reference vector', () => {
    // From the Standard Webhooks specification's test suite.
    const signature = webhookSignature('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('agrees with an independent WebCrypto HMAC over id.timestamp.body', async () => {
    const keyBytes = randomBytes(32);
    const secret = `whsec_${keyBytes.toString('base64')}`;
    const body = JSON.stringify({ event_id: 'evt_1', data: { identifier: 'zoë@example.com' } });
    const key = await webcrypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const expected = Buffer.from(await webcrypto.subtle.sign('HMAC', key, new TextEncoder().encode(`evt_1.1700000000.${body}`))).toString('base64');
    expect(webhookHeaders(secret, 'evt_1', 1700000000, body)).toEqual({
      'webhook-id': 'evt_1',
      'webhook-timestamp': '1700000000',
      'webhook-signature': `v1,${expected}`,
    });
  });

  it('changes with the body, the id, the timestamp and the secret', () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const base = webhookSignature(secret, 'evt_1', 1, '{}');
    expect(webhookSignature(secret, 'evt_1', 1, '{ }')).not.toBe(base);
    expect(webhookSignature(secret, 'evt_2', 1, '{}')).not.toBe(base);
    expect(webhookSignature(secret, 'evt_1', 2, '{}')).not.toBe(base);
    expect(webhookSignature(`whsec_${randomBytes(32).toString('base64')}`, 'evt_1', 1, '{}')).not.toBe(base);
    // The key is the decoded secret, not its text.
    const wrongKey = createHmac('sha256', secret).update('evt_1.1.{}').digest('base64');
    expect(base).not.toBe(`v1,${wrongKey}`);
  });

  it('refuses a secret that is not whsec_', () => {
    expect(() => webhookSignature('plain', 'evt_1', 1, '{}')).toThrow(/whsec_/);
  });
});
