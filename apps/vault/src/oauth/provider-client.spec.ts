import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderClient, ProviderError } from './provider-client.js';

// Token endpoints that answer outside RFC 6749, as Slack's oauth.v2.access does
// (api.slack.com/methods/oauth.v2.access): HTTP 200 with `ok`, `token_type: "bot"`, and
// refusals as 200 {ok: false, error}.

describe('ProviderClient with a Slack-style token endpoint', () => {
  let server: Server;
  let base: string;
  const answers: unknown[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answers.shift())));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const client = () =>
    new ProviderClient(
      { client_id: 'slack-app', scopes: ['chat:write'], authorize_url: `${base}/oauth/v2/authorize`, token_url: `${base}/api/oauth.v2.access`, token_endpoint_auth_method: 'client_secret_post' },
      'slack-client-secret',
      { timeoutMs: 2000, allowHttp: true },
    );

  it('takes a bot token as a bearer token, with its refresh token and expiry', async () => {
    answers.push({
      ok: true,
      access_token: 'xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy',
      token_type: 'bot',
      scope: 'chat:write,channels:read',
      refresh_token: 'xoxe-1-refresh',
      expires_in: 43200,
      bot_user_id: 'U0KRQLJ9H',
      team: { name: 'Slack Pickleball Team', id: 'T9TK3CUKW' },
      authed_user: { id: 'U1234', scope: 'search:read', access_token: 'xoxp-1234', token_type: 'user' },
    });
    const issued = await client().exchangeCode({ code: 'slack-code', state: 'state.sig' }, 'http://127.0.0.1:8080/oauth/callback', 'v'.repeat(43));
    expect(issued.tokens).toEqual({ access_token: 'xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy', refresh_token: 'xoxe-1-refresh', token_type: 'bearer', scope: 'chat:write,channels:read' });
    expect(issued.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 43_000_000);
  });

  it('reads 200 {ok: false, error} as the refusal it is', async () => {
    answers.push({ ok: false, error: 'invalid_code' });
    const err = await client()
      .exchangeCode({ code: 'used-code', state: 'state.sig' }, 'http://127.0.0.1:8080/oauth/callback', 'v'.repeat(43))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'invalid', oauthError: 'invalid_code' });
    answers.push({ ok: false, error: 'invalid_grant' });
    expect(await client().refresh({ access_token: 'xoxb-old', refresh_token: 'xoxe-old', token_type: 'bearer' }).catch((e: unknown) => e)).toMatchObject({ kind: 'refused', oauthError: 'invalid_grant' });
  });

  it("keeps Salesforce's instance_url (an https origin only) across refreshes", async () => {
    answers.push({ access_token: '00Dxx!AQ0', token_type: 'Bearer', refresh_token: '5Aep8', instance_url: 'https://acme.my.salesforce.com', issued_at: '1700000000000' });
    const first = await client().exchangeCode({ code: 'sf-code', state: 'state.sig' }, 'http://127.0.0.1:8080/oauth/callback', 'v'.repeat(43));
    expect(first.tokens.instance_url).toBe('https://acme.my.salesforce.com');
    // A refresh answer repeats it; one that does not keeps the known instance.
    answers.push({ access_token: '00Dxx!AQ1', token_type: 'Bearer' });
    expect((await client().refresh(first.tokens)).tokens).toMatchObject({ access_token: '00Dxx!AQ1', refresh_token: '5Aep8', instance_url: 'https://acme.my.salesforce.com' });
    answers.push({ access_token: '00Dxx!AQ2', token_type: 'Bearer', instance_url: 'http://evil.example' });
    expect((await client().refresh(first.tokens)).tokens.instance_url).toBe('https://acme.my.salesforce.com');
  });
});
