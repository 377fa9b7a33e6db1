import type { AuthType, CallToolResult, ConnectionTarget } from '@vmcp/contracts';
import { startFakeSlack, type FakeSlack } from '@vmcp/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CredentialRequest, ResolvedCredential } from '../connector.js';
import { NativeConnector } from '../native/native.connector.js';
import { ajv, errorText, structuredResult, vmcpError } from '../native/native-spec.fixture.js';
import { slack } from './slack.connector.js';

const TOKEN = 'xoxp-fixture-token-0001';
const REFRESHED = 'xoxe.xoxp-refreshed-token-0002';
const BOT_TOKEN = 'xoxb-fixture-bot-token-0003';

let fake: FakeSlack;

function setup(options: { authType?: AuthType; tokens?: string[] } = {}) {
  const tokens = [...(options.tokens ?? [TOKEN])];
  const authType = options.authType ?? 'bearer_token';
  const resolveCredential = vi.fn(async (r: CredentialRequest): Promise<ResolvedCredential> => {
    // The vault hands out the next token when told which one was refused.
    if (r.rejectedToken && tokens.length > 1 && tokens[0] === r.rejectedToken) tokens.shift();
    return { auth_type: authType, secret: { token: tokens[0]! } };
  });
  const connector = new NativeConnector(slack, { resolveCredential }, { retry: { baseDelayMs: 10, maxDelayMs: 20 } });
  const connection: ConnectionTarget = { id: 'conn_slack', name: 'slack', connector: 'slack', auth_type: authType, settings: { base_url: fake.url } };
  const ctx = { tenantId: 'ten_1', connection, accountId: 'ca_alice', grant: 'grant.jwt' };
  const call = (name: string, args: Record<string, unknown>) => connector.callTool(ctx, name, args, { timeoutMs: 5000 });
  return { connector, resolveCredential, call };
}

const structured = (name: string, result: CallToolResult) => structuredResult(slack, name, result);

const HEADERS = { authorization: `Bearer ${TOKEN}`, accept: 'application/json' };

beforeAll(async () => {
  fake = await startFakeSlack({ tokens: [TOKEN, BOT_TOKEN] });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe('slack connector: catalog', () => {
  it('lists its five tools with valid 2020-12 schemas, true annotations and Slack\'s OAuth v2 endpoints', async () => {
    const { connector } = setup();
    const tools = await connector.listTools();
    expect(tools.map((t) => t.name)).toEqual(['slack_post_message', 'slack_list_channels', 'slack_channel_history', 'slack_search_messages', 'slack_get_user']);
    for (const t of tools) {
      expect(() => ajv.compile(t.inputSchema)).not.toThrow();
      expect(() => ajv.compile(t.outputSchema!)).not.toThrow();
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t.annotations]));
    expect(byName.slack_post_message).toEqual({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true });
    for (const read of ['slack_list_channels', 'slack_channel_history', 'slack_search_messages', 'slack_get_user']) {
      expect(byName[read]).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
    }
    expect(slack.info).toMatchObject({
      id: 'slack',
      auth_types: ['oauth2', 'bearer_token'],
      dynamic_tools: false,
      oauth: {
        authorize_url: 'https://slack.com/oauth/v2/authorize?user_scope=search%3Aread',
        token_url: 'https://slack.com/api/oauth.v2.access',
        revocation_url: 'https://slack.com/api/auth.revoke',
        scopes: ['chat:write', 'channels:read', 'channels:history', 'users:read'],
      },
    });
  });

  it('input schemas refuse what Slack would not take', () => {
    const post = ajv.compile(slack.tool('slack_post_message')!.inputSchema);
    expect(post({ channel: 'C012AB3CD', text: 'hi', thread_ts: '1512104434.000490', reply_broadcast: true })).toBe(true);
    expect(post({ channel: '#general', text: 'hi' })).toBe(true);
    expect(post({ channel: 'general', text: 'hi' })).toBe(false);
    expect(post({ channel: 'C012AB3CD', text: '' })).toBe(false);
    expect(post({ channel: 'C012AB3CD', text: 'hi', reply_broadcast: true })).toBe(false);
    expect(post({ channel: 'C012AB3CD', text: 'hi', thread_ts: 'yesterday' })).toBe(false);
    const history = ajv.compile(slack.tool('slack_channel_history')!.inputSchema);
    expect(history({ channel: 'C012AB3CD', limit: 999 })).toBe(true);
    expect(history({ channel: '../users.info', limit: 5 })).toBe(false);
    expect(history({ channel: 'C012AB3CD', limit: 1000 })).toBe(false);
    expect(ajv.compile(slack.tool('slack_get_user')!.inputSchema)({ user: 'C012AB3CD' })).toBe(false);
  });
});

describe('slack connector: requests and results', () => {
  it('slack_post_message posts JSON with its charset to chat.postMessage and returns the new message', async () => {
    const { call } = setup();
    const posted = structured('slack_post_message', await call('slack_post_message', { channel: 'C012AB3CD', text: 'Deploy *42* is out', unfurl_links: false }));
    expect(fake.requests).toHaveLength(1);
    const [req] = fake.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/api/chat.postMessage', query: {} });
    expect(req!.headers).toMatchObject({ ...HEADERS, 'content-type': 'application/json; charset=utf-8' });
    expect(JSON.parse(req!.rawBody)).toEqual({ channel: 'C012AB3CD', text: 'Deploy *42* is out', unfurl_links: false });
    expect(posted).toEqual({ channel: 'C012AB3CD', ts: expect.stringMatching(/^\d+\.\d+$/), thread_ts: null, text: 'Deploy *42* is out' });
    expect(fake.messages.get('C012AB3CD')!.at(-1)).toMatchObject({ ts: posted.ts, user: 'W012A3CDE', text: 'Deploy *42* is out' });
  });

  it('slack_post_message replies in a thread, by channel name', async () => {
    const { call } = setup();
    const reply = structured('slack_post_message', await call('slack_post_message', { channel: '#general', text: 'On it', thread_ts: '1512104434.000490', reply_broadcast: true }));
    expect(JSON.parse(fake.requests[0]!.rawBody)).toEqual({ channel: '#general', text: 'On it', thread_ts: '1512104434.000490', reply_broadcast: true });
    expect(reply).toMatchObject({ channel: 'C012AB3CD', thread_ts: '1512104434.000490', text: 'On it' });
  });

  it('slack_list_channels sends the documented query and pages with response_metadata.next_cursor', async () => {
    const { call } = setup();
    const first = structured('slack_list_channels', await call('slack_list_channels', { types: ['public_channel', 'private_channel'], exclude_archived: true, limit: 2 }));
    const [req] = fake.requests;
    expect(req).toMatchObject({ method: 'GET', path: '/api/conversations.list', query: { types: 'public_channel,private_channel', exclude_archived: 'true', limit: '2' }, body: undefined });
    expect(req!.headers).toMatchObject(HEADERS);
    expect(first).toEqual({
      channels: [
        {
          id: 'C012AB3CD',
          name: 'general',
          type: 'public_channel',
          is_archived: false,
          is_member: true,
          num_members: 4,
          topic: 'Company-wide announcements and work-based matters',
          purpose: 'This channel is for team-wide communication and announcements. All team members are in this channel.',
          user: null,
          created: 1449252889,
        },
        expect.objectContaining({ id: 'C061EG9T2', name: 'random' }),
      ],
      next_cursor: expect.any(String),
    });

    const second = structured('slack_list_channels', await call('slack_list_channels', { types: ['public_channel', 'private_channel'], exclude_archived: true, limit: 2, cursor: first.next_cursor }));
    expect(fake.requests[1]!.query).toEqual({ types: 'public_channel,private_channel', exclude_archived: 'true', limit: '2', cursor: first.next_cursor });
    expect(second).toEqual({
      channels: [expect.objectContaining({ id: 'C0G9QF9GW', is_member: false }), expect.objectContaining({ id: 'G0PRIV001', name: 'leadership', type: 'private_channel' })],
      next_cursor: null,
    });
  });

  it('slack_channel_history reads newest first, with has_more and the cursor', async () => {
    const { call } = setup();
    const page = structured('slack_channel_history', await call('slack_channel_history', { channel: 'C012AB3CD', oldest: '1512085950.000000', limit: 2 }));
    expect(fake.requests[0]).toMatchObject({ method: 'GET', path: '/api/conversations.history', query: { channel: 'C012AB3CD', oldest: '1512085950.000000', limit: '2' } });
    expect(page).toEqual({
      messages: [
        { ts: '1512104500.000100', user: null, bot_id: 'B0123ABCDEF', subtype: 'bot_message', text: 'Deploy 42 finished', thread_ts: null, reply_count: 0 },
        { ts: '1512104434.000490', user: 'U061F7AUR', bot_id: null, subtype: null, text: 'What, you want to smell my shoes better?', thread_ts: '1512104434.000490', reply_count: 2 },
      ],
      has_more: true,
      next_cursor: expect.any(String),
    });
    const rest = structured('slack_channel_history', await call('slack_channel_history', { channel: 'C012AB3CD', oldest: '1512085950.000000', limit: 2, cursor: page.next_cursor }));
    expect(rest).toEqual({
      messages: [{ ts: '1512085950.000216', user: 'U012AB3CDE', bot_id: null, subtype: null, text: 'I find you punny and would like to smell your nose letter', thread_ts: null, reply_count: 0 }],
      has_more: false,
      next_cursor: null,
    });
  });

  it('slack_search_messages sends query, sort and count, and hands back the next page', async () => {
    const { call } = setup();
    const found = structured('slack_search_messages', await call('slack_search_messages', { query: 'smell', sort: 'timestamp', sort_dir: 'desc', count: 1 }));
    expect(fake.requests[0]).toMatchObject({ method: 'GET', path: '/api/search.messages', query: { query: 'smell', sort: 'timestamp', sort_dir: 'desc', count: '1' } });
    expect(found).toEqual({
      total: 2,
      matches: [
        {
          channel_id: 'C012AB3CD',
          channel_name: 'general',
          user: 'U061F7AUR',
          username: 'someone',
          ts: '1512104434.000490',
          text: 'What, you want to smell my shoes better?',
          permalink: 'https://acme.slack.com/archives/C012AB3CD/p1512104434000490',
        },
      ],
      next_page: 2,
    });
    const last = structured('slack_search_messages', await call('slack_search_messages', { query: 'smell', sort: 'timestamp', sort_dir: 'desc', count: 1, page: 2 }));
    expect(fake.requests[1]!.query).toMatchObject({ page: '2' });
    expect(last).toMatchObject({ total: 2, matches: [{ ts: '1512085950.000216' }], next_page: null });
  });

  it('slack_get_user returns the profile', async () => {
    const { call } = setup();
    const user = structured('slack_get_user', await call('slack_get_user', { user: 'W012A3CDE' }));
    expect(fake.requests[0]).toMatchObject({ method: 'GET', path: '/api/users.info', query: { user: 'W012A3CDE' } });
    expect(user).toEqual({
      id: 'W012A3CDE',
      team_id: 'T0123ABCDEF',
      name: 'spengler',
      real_name: 'Egon Spengler',
      display_name: 'spengler',
      title: 'Senior Tinkerer',
      email: 'spengler@ghostbusters.example.com',
      tz: 'America/Los_Angeles',
      status_text: 'Print is dead',
      is_bot: false,
      is_admin: true,
      deleted: false,
    });
  });
});

describe('slack connector: failures', () => {
  it('HTTP 200 with ok:false is a tool error with Slack\'s error code, not retried', async () => {
    const { call } = setup();
    expect(errorText(await call('slack_channel_history', { channel: 'C0NOPE0001' }))).toBe('Slack returned an error: channel_not_found');
    expect(errorText(await call('slack_get_user', { user: 'U0NOBODY01' }))).toBe('Slack returned an error: user_not_found');
    expect(errorText(await call('slack_post_message', { channel: 'C0OLD0001', text: 'hello?' }))).toBe('Slack returned an error: is_archived');
    expect(fake.requests).toHaveLength(3);
  });

  it('names the missing scope and the validation messages', async () => {
    const { call } = setup();
    fake.override({ path: '/api/conversations.history' }, { status: 200, body: { ok: false, error: 'missing_scope', needed: 'channels:history', provided: 'chat:write' } });
    expect(errorText(await call('slack_channel_history', { channel: 'C012AB3CD' }))).toBe('Slack returned an error: missing_scope (needed scope: channels:history)');
    fake.override({ path: '/api/chat.postMessage' }, { status: 200, body: { ok: false, error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] must provide at least one of: text, blocks, attachments'] } } });
    expect(errorText(await call('slack_post_message', { channel: 'C012AB3CD', text: 'x' }))).toBe(
      'Slack returned an error: invalid_arguments ([ERROR] must provide at least one of: text, blocks, attachments)',
    );
  });

  it('search.messages with a bot token says not_allowed_token_type', async () => {
    const { call } = setup({ tokens: [BOT_TOKEN] });
    expect(errorText(await call('slack_search_messages', { query: 'deploy' }))).toBe('Slack returned an error: not_allowed_token_type');
  });

  it('token_expired (HTTP 200) takes the 401 path: the OAuth token is refreshed once and the call goes through', async () => {
    fake.tokens.add(REFRESHED);
    try {
      const { call, resolveCredential } = setup({ authType: 'oauth2', tokens: [TOKEN, REFRESHED] });
      fake.override({ path: '/api/users.info' }, { status: 200, body: { ok: false, error: 'token_expired' } });
      const user = structured('slack_get_user', await call('slack_get_user', { user: 'W012A3CDE' }));
      expect(user.id).toBe('W012A3CDE');
      expect(resolveCredential.mock.calls.map(([r]) => r)).toEqual([
        { tenantId: 'ten_1', accountId: 'ca_alice', grant: 'grant.jwt' },
        { tenantId: 'ten_1', accountId: 'ca_alice', grant: 'grant.jwt', rejectedToken: TOKEN },
      ]);
      expect(fake.tokensSeen()).toEqual([TOKEN, REFRESHED]);
    } finally {
      fake.tokens.delete(REFRESHED);
    }
  });

  it('invalid_auth on a post is refreshed too (nothing was posted), and the message goes out once', async () => {
    fake.tokens.add(REFRESHED);
    fake.tokens.delete(TOKEN);
    try {
      const { call } = setup({ authType: 'oauth2', tokens: [TOKEN, REFRESHED] });
      const before = fake.messages.get('C012AB3CD')!.length;
      structured('slack_post_message', await call('slack_post_message', { channel: 'C012AB3CD', text: 'once' }));
      expect(fake.tokensSeen()).toEqual([TOKEN, REFRESHED]);
      expect(fake.messages.get('C012AB3CD')!.length).toBe(before + 1);
    } finally {
      fake.tokens.add(TOKEN);
      fake.tokens.delete(REFRESHED);
    }
  });

  it('a token refused again after the refresh, or a refused static token, is ACCOUNT_NOT_ACTIVE', async () => {
    const oauth = setup({ authType: 'oauth2', tokens: ['xoxe.xoxp-revoked-1', 'xoxe.xoxp-revoked-2'] });
    const err = await vmcpError(oauth.call('slack_list_channels', {}));
    expect(err.code).toBe('ACCOUNT_NOT_ACTIVE');
    expect(err.message).toMatch(/even after a refresh/);
    expect(err.message).not.toContain('revoked');
    expect(fake.requests).toHaveLength(2);

    fake.reset();
    const pat = setup({ tokens: ['xoxp-wrong-token'] });
    expect(await vmcpError(pat.call('slack_list_channels', {}))).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE', message: expect.stringMatching(/refused the connected account's credential/) });
    expect(pat.resolveCredential).toHaveBeenCalledTimes(1);
    expect(fake.requests).toHaveLength(1);
  });

  it('a 429 with Retry-After is waited out for a read, never retried for a post', async () => {
    const { call } = setup();
    const limited = { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } };
    fake.override({ path: '/api/conversations.list' }, limited);
    const started = Date.now();
    expect(structured('slack_list_channels', await call('slack_list_channels', { limit: 1 })).channels).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(fake.requests).toHaveLength(2);

    fake.reset();
    fake.override({ path: '/api/chat.postMessage' }, limited);
    expect(errorText(await call('slack_post_message', { channel: 'C012AB3CD', text: 'x' }))).toBe('Slack answered HTTP 429: ratelimited (retry after 1 s)');
    expect(fake.requests).toHaveLength(1);
  });
});
