import { startFakeProvider, type FakeProvider, type FakeRequest, type FakeResponse, type RecordedRequest } from './fake-provider.js';

/**
 * A local stand-in for the Slack Web API (api.slack.com/web), reproducing the documented
 * requests and answers of the methods the slack connector uses: `Authorization: Bearer`
 * tokens (`not_authed`, `invalid_auth`), the `{ok, error}` envelope on HTTP 200, arguments
 * from the query string, a form body or a JSON body, cursor pagination through
 * `response_metadata.next_cursor`, and search.messages refusing bot tokens. Data follows
 * the examples of Slack's reference (api.slack.com/methods/*).
 */
export interface FakeSlack extends FakeProvider {
  /** Tokens accepted; change it to revoke one. Tokens starting xoxb- are bot tokens. */
  readonly tokens: Set<string>;
  /** Messages by conversation ID, newest last (posts are added; `reset` restores the seed data). */
  readonly messages: Map<string, SlackMessageRecord[]>;
  /** The tokens seen on requests, in order. */
  tokensSeen(): string[];
}

export interface FakeSlackOptions {
  /** Accepted tokens (default: one user token, `xoxp-fixture-token-0001`). */
  readonly tokens?: readonly string[];
}

export interface SlackMessageRecord {
  ts: string;
  user?: string;
  bot_id?: string;
  subtype?: string;
  text: string;
  thread_ts?: string;
  reply_count?: number;
}

const TEAM = 'T0123ABCDEF';
const DOMAIN = 'acme';
const BOT_USER = 'U0BOT00001';
const BOT_ID = 'B0123ABCDEF';

interface Conversation {
  id: string;
  name?: string;
  kind: 'public_channel' | 'private_channel' | 'mpim' | 'im';
  is_archived: boolean;
  is_member: boolean;
  num_members?: number;
  topic: string;
  purpose: string;
  user?: string;
  created: number;
}

const CONVERSATIONS: readonly Conversation[] = [
  { id: 'C012AB3CD', name: 'general', kind: 'public_channel', is_archived: false, is_member: true, num_members: 4, topic: 'Company-wide announcements and work-based matters', purpose: 'This channel is for team-wide communication and announcements. All team members are in this channel.', created: 1449252889 },
  { id: 'C061EG9T2', name: 'random', kind: 'public_channel', is_archived: false, is_member: true, num_members: 4, topic: 'Non-work banter and water cooler conversation', purpose: "A place for non-work-related flimflam, faffing, hodge-podge or jibber-jabber you'd prefer to keep out of more focused work-related channels.", created: 1449252889 },
  { id: 'C0G9QF9GW', name: 'ops', kind: 'public_channel', is_archived: false, is_member: false, num_members: 2, topic: 'Deploys and incidents', purpose: 'Operations', created: 1500000000 },
  { id: 'C0OLD0001', name: 'old-project', kind: 'public_channel', is_archived: true, is_member: false, num_members: 0, topic: '', purpose: 'Archived project', created: 1400000000 },
  { id: 'G0PRIV001', name: 'leadership', kind: 'private_channel', is_archived: false, is_member: true, num_members: 3, topic: 'Leads only', purpose: '', created: 1600000000 },
  { id: 'D0DM00001', kind: 'im', is_archived: false, is_member: true, user: 'U2U85N1RV', topic: '', purpose: '', created: 1650000000 },
];

const USERS: Record<string, Record<string, unknown>> = {
  W012A3CDE: {
    id: 'W012A3CDE',
    team_id: TEAM,
    name: 'spengler',
    deleted: false,
    color: '9f69e7',
    real_name: 'Egon Spengler',
    tz: 'America/Los_Angeles',
    tz_label: 'Pacific Daylight Time',
    tz_offset: -25200,
    profile: {
      avatar_hash: 'ge3b51ca72de',
      status_text: 'Print is dead',
      status_emoji: ':books:',
      real_name: 'Egon Spengler',
      display_name: 'spengler',
      real_name_normalized: 'Egon Spengler',
      display_name_normalized: 'spengler',
      email: 'spengler@ghostbusters.example.com',
      title: 'Senior Tinkerer',
      image_24: 'https://.../image_24.jpg',
      team: TEAM,
    },
    is_admin: true,
    is_owner: false,
    is_primary_owner: false,
    is_restricted: false,
    is_ultra_restricted: false,
    is_bot: false,
    updated: 1502138686,
    is_app_user: false,
    has_2fa: false,
  },
  U2U85N1RV: {
    id: 'U2U85N1RV',
    team_id: TEAM,
    name: 'roach',
    deleted: false,
    real_name: 'Roach',
    tz: 'Europe/Berlin',
    profile: { real_name: 'Roach', display_name: '', status_text: '', team: TEAM },
    is_admin: false,
    is_bot: false,
    updated: 1502138686,
  },
};

function seed(): Map<string, SlackMessageRecord[]> {
  // Oldest first; conversations.history answers newest first.
  return new Map<string, SlackMessageRecord[]>([
    [
      'C012AB3CD',
      [
        { ts: '1512085950.000216', user: 'U012AB3CDE', text: 'I find you punny and would like to smell your nose letter' },
        { ts: '1512104434.000490', user: 'U061F7AUR', text: 'What, you want to smell my shoes better?', thread_ts: '1512104434.000490', reply_count: 2 },
        { ts: '1512104500.000100', subtype: 'bot_message', bot_id: BOT_ID, text: 'Deploy 42 finished' },
      ],
    ],
    ['C061EG9T2', [{ ts: '1504223355.000138', user: 'U2U85N1RV', text: 'The meaning of life the universe and everything is 42.' }]],
  ]);
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const tokens = new Set(options.tokens ?? ['xoxp-fixture-token-0001']);
  const messages = seed();
  let clock = 1_700_000_000;

  const ok = (body: Record<string, unknown>): FakeResponse => ({ status: 200, body: { ok: true, ...body } });
  // Slack reports failures in a 200 answer (api.slack.com/web#evaluating_responses).
  const fail = (error: string, extra: Record<string, unknown> = {}): FakeResponse => ({ status: 200, body: { ok: false, error, ...extra } });
  const tokenOf = (r: RecordedRequest) => /^Bearer\s+(.+)$/i.exec(r.headers.authorization ?? '')?.[1];

  /** A method's arguments: query string, form body or JSON body, as Slack accepts them. */
  const argsOf = (r: RecordedRequest): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...r.query };
    if (r.body && typeof r.body === 'object') Object.assign(out, r.body);
    else if (typeof r.body === 'string' && /x-www-form-urlencoded/i.test(r.headers['content-type'] ?? '')) Object.assign(out, Object.fromEntries(new URLSearchParams(r.body)));
    return out;
  };
  const bool = (v: unknown) => v === true || v === 'true' || v === '1';
  const int = (v: unknown, fallback: number) => (v === undefined || v === '' ? fallback : Number(v));
  const cursorFor = (key: string, index: number) => Buffer.from(`${key}:${index}`).toString('base64');
  const indexOf = (cursor: unknown, key: string): number | undefined => {
    if (cursor === undefined || cursor === '') return 0;
    const [k, i] = Buffer.from(String(cursor), 'base64').toString('utf8').split(':');
    return k === key && /^\d+$/.test(i ?? '') ? Number(i) : undefined;
  };

  const conversationJson = (c: Conversation) =>
    c.kind === 'im'
      ? { id: c.id, created: c.created, is_archived: false, is_im: true, is_org_shared: false, context_team_id: TEAM, updated: c.created * 1000, user: c.user, is_user_deleted: false, priority: 0 }
      : {
          id: c.id,
          name: c.name,
          is_channel: c.kind === 'public_channel',
          is_group: false,
          is_im: false,
          is_mpim: c.kind === 'mpim',
          is_private: c.kind !== 'public_channel',
          created: c.created,
          is_archived: c.is_archived,
          is_general: c.name === 'general',
          unlinked: 0,
          name_normalized: c.name,
          is_shared: false,
          is_org_shared: false,
          is_pending_ext_shared: false,
          pending_shared: [],
          context_team_id: TEAM,
          updated: c.created * 1000,
          parent_conversation: null,
          creator: 'U012A3CDE',
          is_ext_shared: false,
          shared_team_ids: [TEAM],
          pending_connected_team_ids: [],
          is_member: c.is_member,
          topic: { value: c.topic, creator: c.topic ? 'U012A3CDE' : '', last_set: c.topic ? c.created : 0 },
          purpose: { value: c.purpose, creator: c.purpose ? 'U012A3CDE' : '', last_set: c.purpose ? c.created : 0 },
          previous_names: [],
          num_members: c.num_members,
        };

  /** conversations.list — api.slack.com/methods/conversations.list */
  const list = (r: FakeRequest): FakeResponse => {
    const a = argsOf(r);
    const types = String(a.types ?? 'public_channel').split(',');
    if (types.some((t) => !['public_channel', 'private_channel', 'mpim', 'im'].includes(t))) return fail('invalid_types');
    const limit = int(a.limit, 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 999) return fail('invalid_limit');
    const start = indexOf(a.cursor, 'team');
    if (start === undefined) return fail('invalid_cursor');
    const all = CONVERSATIONS.filter((c) => types.includes(c.kind) && !(bool(a.exclude_archived) && c.is_archived));
    const pageItems = all.slice(start, start + limit);
    const next = start + limit < all.length ? cursorFor('team', start + limit) : '';
    return ok({ channels: pageItems.map(conversationJson), response_metadata: { next_cursor: next } });
  };

  /** conversations.history — api.slack.com/methods/conversations.history */
  const history = (r: FakeRequest): FakeResponse => {
    const a = argsOf(r);
    const c = CONVERSATIONS.find((x) => x.id === a.channel);
    if (!a.channel) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: channel'] } });
    if (!c) return fail('channel_not_found');
    if (!c.is_member) return fail('not_in_channel');
    const limit = int(a.limit, 100);
    const inclusive = bool(a.inclusive);
    const oldest = a.oldest === undefined ? undefined : Number(a.oldest);
    const latest = a.latest === undefined ? undefined : Number(a.latest);
    const inWindow = (ts: number) =>
      (oldest === undefined || (inclusive ? ts >= oldest : ts > oldest)) && (latest === undefined || (inclusive ? ts <= latest : ts < latest));
    const all = [...(messages.get(c.id) ?? [])].filter((m) => !m.thread_ts || m.thread_ts === m.ts).filter((m) => inWindow(Number(m.ts))).reverse();
    const start = indexOf(a.cursor, `history-${c.id}`);
    if (start === undefined) return fail('invalid_cursor');
    const items = all.slice(start, start + limit);
    const more = start + limit < all.length;
    return ok({
      messages: items.map((m) => ({ type: 'message', ...m, ...(m.bot_id ? { app_id: 'A0123ABCDEF', username: 'deploybot' } : { team: TEAM }) })),
      has_more: more,
      pin_count: 0,
      channel_actions_ts: null,
      channel_actions_count: 0,
      response_metadata: { next_cursor: more ? cursorFor(`history-${c.id}`, start + limit) : '' },
    });
  };

  /** chat.postMessage — api.slack.com/methods/chat.postMessage */
  const post = (r: FakeRequest): FakeResponse => {
    const a = argsOf(r);
    if (!a.channel) return fail('channel_not_found');
    const channel = typeof a.channel === 'string' && a.channel.startsWith('#') ? CONVERSATIONS.find((c) => c.name === (a.channel as string).slice(1)) : CONVERSATIONS.find((c) => c.id === a.channel);
    if (!channel) return fail('channel_not_found');
    if (channel.is_archived) return fail('is_archived');
    if (channel.kind === 'private_channel' && !channel.is_member) return fail('not_in_channel');
    if (typeof a.text !== 'string' || a.text === '') {
      if (!a.blocks && !a.attachments) return fail('no_text');
    }
    const list = messages.get(channel.id) ?? [];
    const threadTs = typeof a.thread_ts === 'string' ? a.thread_ts : undefined;
    if (threadTs && !list.some((m) => m.ts === threadTs)) return fail('thread_not_found');
    const ts = `${++clock}.000100`;
    const token = tokenOf(r) ?? '';
    const author = token.startsWith('xoxb-') ? { bot_id: BOT_ID, user: BOT_USER } : { user: 'W012A3CDE' };
    const record: SlackMessageRecord = { ts, ...author, text: String(a.text ?? ''), ...(threadTs ? { thread_ts: threadTs } : {}) };
    list.push(record);
    messages.set(channel.id, list);
    if (threadTs) {
      const parent = list.find((m) => m.ts === threadTs)!;
      parent.thread_ts = threadTs;
      parent.reply_count = (parent.reply_count ?? 0) + 1;
    }
    return ok({
      channel: channel.id,
      ts,
      message: { ...(author.bot_id ? { bot_id: BOT_ID, app_id: 'A0123ABCDEF' } : {}), type: 'message', text: record.text, user: author.user, ts, team: TEAM, ...(threadTs ? { thread_ts: threadTs, parent_user_id: list.find((m) => m.ts === threadTs)?.user } : {}) },
      // A JSON body without its charset still works, with a warning (api.slack.com/web#posting_json).
      ...(typeof r.body === 'object' && !/charset/i.test(r.headers['content-type'] ?? '') ? { warning: 'missing_charset', response_metadata: { warnings: ['missing_charset'] } } : {}),
    });
  };

  /** search.messages — api.slack.com/methods/search.messages */
  const searchMessages = (r: FakeRequest): FakeResponse => {
    if ((tokenOf(r) ?? '').startsWith('xoxb-')) return fail('not_allowed_token_type');
    const a = argsOf(r);
    const query = typeof a.query === 'string' ? a.query : '';
    if (!query.trim()) return fail('no_query');
    const count = int(a.count, 20);
    const pageNo = int(a.page, 1);
    const words: string[] = [];
    let channels = CONVERSATIONS.filter((c) => c.kind !== 'im');
    for (const term of query.split(/\s+/).filter(Boolean)) {
      if (term.startsWith('in:#')) channels = channels.filter((c) => c.name === term.slice(4));
      else words.push(term.toLowerCase());
    }
    const matches = channels.flatMap((c) =>
      (messages.get(c.id) ?? [])
        .filter((m) => words.every((w) => m.text.toLowerCase().includes(w)))
        .map((m) => ({
          iid: `cb64bdaa-c1e8-4631-8a91-0f78080${m.ts.slice(-5)}`,
          team: TEAM,
          channel: { id: c.id, is_channel: c.kind === 'public_channel', is_private: c.kind !== 'public_channel', is_mpim: false, name: c.name },
          type: 'message',
          user: m.user ?? null,
          username: m.user === 'U2U85N1RV' ? 'roach' : m.user === 'W012A3CDE' ? 'spengler' : m.bot_id ? 'deploybot' : 'someone',
          ts: m.ts,
          text: m.text,
          permalink: `https://${DOMAIN}.slack.com/archives/${c.id}/p${m.ts.replace('.', '')}`,
        })),
    );
    if (a.sort === 'timestamp') matches.sort((x, y) => (a.sort_dir === 'asc' ? 1 : -1) * x.ts.localeCompare(y.ts));
    const pages = Math.max(1, Math.ceil(matches.length / count));
    return ok({
      query,
      messages: {
        total: matches.length,
        pagination: { total_count: matches.length, page: pageNo, per_page: count, page_count: pages, first: (pageNo - 1) * count + 1, last: Math.min(pageNo * count, matches.length) },
        paging: { count, total: matches.length, page: pageNo, pages },
        matches: matches.slice((pageNo - 1) * count, pageNo * count),
      },
    });
  };

  /** users.info — api.slack.com/methods/users.info */
  const usersInfo = (r: FakeRequest): FakeResponse => {
    const a = argsOf(r);
    const u = typeof a.user === 'string' ? USERS[a.user] : undefined;
    return u ? ok({ user: u }) : fail('user_not_found');
  };

  const method = (name: string, handle: (r: FakeRequest) => FakeResponse) => [
    { method: 'GET', path: `/${name}`, handle },
    { method: 'POST', path: `/${name}`, handle },
  ];

  const provider = await startFakeProvider({
    prefix: '/api',
    headers: { 'x-slack-req-id': 'fake-req-0001', 'access-control-allow-origin': '*' },
    gate(r) {
      const token = tokenOf(r);
      if (!token) return fail('not_authed');
      if (!tokens.has(token)) return fail('invalid_auth');
      return undefined;
    },
    routes: [
      ...method('conversations.list', list),
      ...method('conversations.history', history),
      { method: 'POST', path: '/chat.postMessage', handle: post },
      ...method('search.messages', searchMessages),
      ...method('users.info', usersInfo),
    ],
    notFound: () => ({ status: 404, body: { ok: false, error: 'unknown_method' } }),
  });

  return {
    ...provider,
    reset() {
      provider.reset();
      messages.clear();
      for (const [k, v] of seed()) messages.set(k, v);
    },
    tokens,
    messages,
    tokensSeen: () => provider.requests.map((r) => tokenOf(r) ?? ''),
  };
}
