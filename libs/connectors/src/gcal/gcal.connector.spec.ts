import type { AuthType, CallToolResult, ConnectionTarget } from '@vmcp/contracts';
import { startFakeGcal, type FakeGcal } from '@vmcp/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CredentialRequest, ResolvedCredential } from '../connector.js';
import { NativeConnector } from '../native/native.connector.js';
import { ajv, errorText, structuredResult } from '../native/native-spec.fixture.js';
import { gcal } from './gcal.connector.js';

const TOKEN = 'ya29.fixture_token_0001';
const REFRESHED = 'ya29.refreshed_token_0002';
const EVENTS = '/calendar/v3/calendars/primary/events';

let cal: FakeGcal;

function setup(options: { authType?: AuthType; tokens?: string[] } = {}) {
  const tokens = [...(options.tokens ?? [TOKEN])];
  const authType = options.authType ?? 'oauth2';
  const resolveCredential = vi.fn(async (r: CredentialRequest): Promise<ResolvedCredential> => {
    if (r.rejectedToken && tokens.length > 1 && tokens[0] === r.rejectedToken) tokens.shift();
    return { auth_type: authType, secret: { token: tokens[0]! } };
  });
  const connector = new NativeConnector(gcal, { resolveCredential }, { retry: { baseDelayMs: 10, maxDelayMs: 20 } });
  const connection: ConnectionTarget = { id: 'conn_cal', name: 'calendar', connector: 'gcal', auth_type: authType, settings: { base_url: cal.url } };
  const ctx = { tenantId: 'ten_1', connection, accountId: 'ca_alice', grant: 'grant.jwt' };
  const call = (name: string, args: Record<string, unknown>) => connector.callTool(ctx, name, args, { timeoutMs: 5000 });
  return { connector, resolveCredential, call };
}

const structured = (name: string, result: CallToolResult) => structuredResult(gcal, name, result);

const link = (id: string) => `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} alice@example.com`).toString('base64url')}`;

const STANDUP = {
  id: 'c0ffee0standup1',
  status: 'confirmed',
  summary: 'Team standup',
  description: null,
  location: null,
  start: { date_time: '2024-05-13T09:00:00+02:00', date: null, time_zone: 'Europe/Paris' },
  end: { date_time: '2024-05-13T09:15:00+02:00', date: null, time_zone: 'Europe/Paris' },
  all_day: false,
  attendees: [
    { email: 'alice@example.com', display_name: null, response_status: 'accepted', optional: false, organizer: true },
    { email: 'bob@example.com', display_name: 'Bob', response_status: 'needsAction', optional: false, organizer: false },
  ],
  organizer: 'alice@example.com',
  html_link: link('c0ffee0standup1'),
  hangout_link: null,
  recurring_event_id: null,
  created: '2024-05-01T08:00:00.000Z',
  updated: '2024-05-01T08:00:00.123Z',
};

beforeAll(async () => {
  cal = await startFakeGcal();
});
afterAll(async () => {
  await cal.close();
});
beforeEach(() => cal.reset());

describe('gcal connector: catalog', () => {
  it('lists its five tools with true annotations, and Google\'s OAuth endpoints', async () => {
    const tools = await setup().connector.listTools();
    expect(tools.map((t) => t.name)).toEqual(['gcal_list_events', 'gcal_create_event', 'gcal_update_event', 'gcal_delete_event', 'gcal_free_busy']);
    const byName = Object.fromEntries(tools.map((t) => [t.name, t.annotations]));
    expect(byName.gcal_list_events).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
    expect(byName.gcal_free_busy).toEqual(byName.gcal_list_events);
    expect(byName.gcal_create_event).toEqual({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true });
    expect(byName.gcal_update_event).toEqual({ readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true });
    expect(byName.gcal_delete_event).toEqual({ readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true });
    expect(gcal.info).toMatchObject({
      id: 'gcal',
      name: 'Google Calendar',
      auth_types: ['oauth2', 'bearer_token'],
      oauth: {
        authorize_url: 'https://accounts.google.com/o/oauth2/v2/auth?access_type=offline&prompt=consent',
        token_url: 'https://oauth2.googleapis.com/token',
        revocation_url: 'https://oauth2.googleapis.com/revoke',
        scopes: ['https://www.googleapis.com/auth/calendar.events', 'https://www.googleapis.com/auth/calendar.freebusy'],
      },
    });
  });

  it('input schemas take exactly one form of event time and RFC 3339 bounds with offset', () => {
    const create = ajv.compile(gcal.tool('gcal_create_event')!.inputSchema);
    const timed = { summary: 'x', start: { date_time: '2024-05-15T10:00:00', time_zone: 'Europe/Paris' }, end: { date_time: '2024-05-15T11:00:00+02:00' } };
    expect(create(timed)).toBe(true);
    expect(create({ summary: 'x', start: { date: '2024-05-16' }, end: { date: '2024-05-17' } })).toBe(true);
    expect(create({ ...timed, start: { date: '2024-05-16', date_time: '2024-05-15T10:00:00Z' } })).toBe(false);
    expect(create({ ...timed, start: {} })).toBe(false);
    expect(create({ ...timed, start: { date_time: 'tomorrow 10am' } })).toBe(false);
    expect(create({ ...timed, attendees: [{ email: 'not-an-email' }] })).toBe(false);
    expect(create({ ...timed, send_updates: 'everyone' })).toBe(false);
    const list = ajv.compile(gcal.tool('gcal_list_events')!.inputSchema);
    expect(list({ time_min: '2024-05-13T00:00:00Z', calendar_id: 'team@group.calendar.google.com' })).toBe(true);
    expect(list({ time_min: '2024-05-13T00:00:00' })).toBe(false);
    expect(list({ calendar_id: 'a/b' })).toBe(false);
  });
});

describe('gcal connector: requests and results', () => {
  it('gcal_list_events sends the range with singleEvents and orderBy=startTime, and pages with pageToken', async () => {
    const { call } = setup();
    const range = { time_min: '2024-05-13T00:00:00+02:00', time_max: '2024-05-20T00:00:00+02:00' };
    const first = structured('gcal_list_events', await call('gcal_list_events', { ...range, max_results: 2 }));
    const [req] = cal.requests;
    expect(req).toMatchObject({ method: 'GET', path: EVENTS, body: undefined });
    expect(req!.query).toEqual({ timeMin: range.time_min, timeMax: range.time_max, singleEvents: 'true', orderBy: 'startTime', maxResults: '2' });
    expect(req!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(first).toMatchObject({ calendar_time_zone: 'Europe/Paris', next_page_token: expect.any(String) });
    const events = first.events as Array<Record<string, unknown>>;
    expect(events[0]).toEqual(STANDUP);
    expect(events[1]).toMatchObject({ id: 'c0ffee0design02', summary: 'Design review', description: 'Review of the Q2 mockups.', location: 'Room 4', hangout_link: 'https://meet.google.com/abc-defg-hij', attendees: [] });

    const second = structured('gcal_list_events', await call('gcal_list_events', { ...range, max_results: 2, page_token: first.next_page_token }));
    expect(cal.requests[1]!.query).toEqual({ timeMin: range.time_min, timeMax: range.time_max, singleEvents: 'true', orderBy: 'startTime', maxResults: '2', pageToken: first.next_page_token });
    expect(second).toEqual({
      calendar_time_zone: 'Europe/Paris',
      events: [
        expect.objectContaining({ id: 'c0ffee0offsite3', all_day: true, start: { date_time: null, date: '2024-05-16', time_zone: null }, end: { date_time: null, date: '2024-05-18', time_zone: null } }),
      ],
      next_page_token: null,
    });
  });

  it('gcal_list_events searches with q, leaves orderBy out for series, and encodes the calendar id', async () => {
    const { call } = setup();
    const found = structured('gcal_list_events', await call('gcal_list_events', { query: 'design', single_events: false, time_zone: 'UTC' }));
    expect(cal.requests[0]!.query).toEqual({ q: 'design', singleEvents: 'false', maxResults: '25', timeZone: 'UTC' });
    expect((found.events as Array<{ id: string }>).map((e) => e.id)).toEqual(['c0ffee0design02']);

    expect(errorText(await call('gcal_list_events', { single_events: false, order_by: 'startTime' }))).toBe('Invalid argument: order_by startTime needs single_events true');
    expect(cal.requests).toHaveLength(1);

    expect(errorText(await call('gcal_list_events', { calendar_id: 'team@group.calendar.google.com' }))).toBe('Google Calendar answered HTTP 404: Not Found');
    expect(cal.requests[1]!.path).toBe('/calendar/v3/calendars/team%40group.calendar.google.com/events');
  });

  it('gcal_create_event posts the event in Google\'s shape with sendUpdates', async () => {
    const { call } = setup();
    const created = structured(
      'gcal_create_event',
      await call('gcal_create_event', {
        summary: 'Budget sync',
        description: 'Q3 budget',
        location: 'Room 2',
        start: { date_time: '2024-05-15T10:00:00', time_zone: 'Europe/Paris' },
        end: { date_time: '2024-05-15T10:30:00', time_zone: 'Europe/Paris' },
        attendees: [{ email: 'bob@example.com', display_name: 'Bob' }, { email: 'carol@example.com', optional: true }],
        send_updates: 'all',
      }),
    );
    const [req] = cal.requests;
    expect(req).toMatchObject({ method: 'POST', path: EVENTS, query: { sendUpdates: 'all' } });
    expect(req!.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' });
    expect(req!.body).toEqual({
      summary: 'Budget sync',
      description: 'Q3 budget',
      location: 'Room 2',
      start: { dateTime: '2024-05-15T10:00:00', timeZone: 'Europe/Paris' },
      end: { dateTime: '2024-05-15T10:30:00', timeZone: 'Europe/Paris' },
      attendees: [{ email: 'bob@example.com', displayName: 'Bob' }, { email: 'carol@example.com', optional: true }],
    });
    expect(created).toMatchObject({
      id: 'n3w0ev0001',
      status: 'confirmed',
      summary: 'Budget sync',
      start: { date_time: '2024-05-15T10:00:00', date: null, time_zone: 'Europe/Paris' },
      all_day: false,
      attendees: [
        { email: 'bob@example.com', display_name: 'Bob', response_status: 'needsAction', optional: false, organizer: false },
        { email: 'carol@example.com', display_name: null, response_status: 'needsAction', optional: true, organizer: false },
      ],
      organizer: 'alice@example.com',
      html_link: link('n3w0ev0001'),
    });

    const allDay = structured('gcal_create_event', await call('gcal_create_event', { summary: 'Holiday', start: { date: '2024-05-20' }, end: { date: '2024-05-21' } }));
    expect(cal.requests[1]).toMatchObject({ query: {}, body: { summary: 'Holiday', start: { date: '2024-05-20' }, end: { date: '2024-05-21' } } });
    expect(allDay).toMatchObject({ all_day: true });
  });

  it('gcal_create_event refuses a local time without zone, and passes Google\'s 400 on', async () => {
    const { call } = setup();
    expect(errorText(await call('gcal_create_event', { summary: 'x', start: { date_time: '2024-05-15T10:00:00' }, end: { date_time: '2024-05-15T11:00:00Z' } }))).toBe(
      'Invalid argument: start.date_time has no UTC offset, so start.time_zone is required',
    );
    expect(cal.requests).toHaveLength(0);
    expect(errorText(await call('gcal_create_event', { summary: 'x', start: { date_time: '2024-05-15T11:00:00Z' }, end: { date_time: '2024-05-15T10:00:00Z' } }))).toBe(
      'Google Calendar answered HTTP 400: The specified time range is empty.',
    );
  });

  it('gcal_update_event patches only the given fields, and can turn an all-day event into a timed one', async () => {
    const { call } = setup();
    const updated = structured('gcal_update_event', await call('gcal_update_event', { event_id: 'c0ffee0design02', location: 'Room 5', send_updates: 'none' }));
    expect(cal.requests[0]).toMatchObject({ method: 'PATCH', path: `${EVENTS}/c0ffee0design02`, query: { sendUpdates: 'none' }, body: { location: 'Room 5' } });
    expect(updated).toMatchObject({ id: 'c0ffee0design02', location: 'Room 5', summary: 'Design review', start: { date_time: '2024-05-14T14:00:00+02:00' } });

    const timed = structured(
      'gcal_update_event',
      await call('gcal_update_event', { event_id: 'c0ffee0offsite3', start: { date_time: '2024-05-16T09:00:00+02:00' }, end: { date_time: '2024-05-16T18:00:00', time_zone: 'Europe/Paris' } }),
    );
    expect(cal.requests[1]!.body).toEqual({
      start: { dateTime: '2024-05-16T09:00:00+02:00', date: null },
      end: { dateTime: '2024-05-16T18:00:00', timeZone: 'Europe/Paris', date: null },
    });
    expect(timed).toMatchObject({ all_day: false, start: { date_time: '2024-05-16T09:00:00+02:00', date: null }, end: { date: null, time_zone: 'Europe/Paris' } });

    expect(errorText(await call('gcal_update_event', { event_id: 'c0ffee0offsite3' }))).toMatch(/^Invalid argument: nothing to update/);
    expect(errorText(await call('gcal_update_event', { event_id: 'nosuchevent', summary: 'x' }))).toBe('Google Calendar answered HTTP 404: Not Found');
    expect(cal.requests).toHaveLength(3);
  });

  it('gcal_delete_event deletes (204), reports an event already deleted (410), and a missing one as an error', async () => {
    const { call } = setup();
    expect(structured('gcal_delete_event', await call('gcal_delete_event', { event_id: 'c0ffee0standup1', send_updates: 'all' }))).toEqual({
      event_id: 'c0ffee0standup1',
      deleted: true,
      already_deleted: false,
    });
    expect(cal.requests[0]).toMatchObject({ method: 'DELETE', path: `${EVENTS}/c0ffee0standup1`, query: { sendUpdates: 'all' }, rawBody: '' });
    expect(cal.events.get('c0ffee0standup1')!.status).toBe('cancelled');
    expect(structured('gcal_delete_event', await call('gcal_delete_event', { event_id: 'c0ffee0standup1' }))).toEqual({ event_id: 'c0ffee0standup1', deleted: true, already_deleted: true });
    expect(errorText(await call('gcal_delete_event', { event_id: 'nosuchevent' }))).toBe('Google Calendar answered HTTP 404: Not Found');
  });

  it('gcal_free_busy posts the interval and items, and reports each calendar\'s busy times or errors', async () => {
    const { call } = setup();
    const result = structured(
      'gcal_free_busy',
      await call('gcal_free_busy', { time_min: '2024-05-13T00:00:00+02:00', time_max: '2024-05-18T00:00:00+02:00', calendar_ids: ['primary', 'bob@example.com', 'nobody@example.com'] }),
    );
    expect(cal.requests[0]).toMatchObject({ method: 'POST', path: '/calendar/v3/freeBusy', query: {} });
    expect(cal.requests[0]!.body).toEqual({
      timeMin: '2024-05-13T00:00:00+02:00',
      timeMax: '2024-05-18T00:00:00+02:00',
      items: [{ id: 'primary' }, { id: 'bob@example.com' }, { id: 'nobody@example.com' }],
    });
    expect(result).toEqual({
      time_min: '2024-05-12T22:00:00.000Z',
      time_max: '2024-05-17T22:00:00.000Z',
      calendars: [
        {
          id: 'primary',
          busy: [
            { start: '2024-05-13T07:00:00Z', end: '2024-05-13T07:15:00Z' },
            { start: '2024-05-14T12:00:00Z', end: '2024-05-14T13:00:00Z' },
          ],
          errors: [],
        },
        { id: 'bob@example.com', busy: [{ start: '2024-05-13T12:00:00Z', end: '2024-05-13T13:00:00Z' }], errors: [] },
        { id: 'nobody@example.com', busy: [], errors: ['notFound'] },
      ],
    });
  });
});

describe('gcal connector: failures', () => {
  it('an access token refused with 401 is refreshed once through the vault, and even a create goes through once', async () => {
    cal.tokens.add(REFRESHED);
    cal.tokens.delete(TOKEN);
    try {
      const { call, resolveCredential } = setup({ tokens: [TOKEN, REFRESHED] });
      const created = structured('gcal_create_event', await call('gcal_create_event', { summary: 'x', start: { date: '2024-05-20' }, end: { date: '2024-05-21' } }));
      expect(created.summary).toBe('x');
      expect(resolveCredential.mock.calls.map(([r]) => r)).toEqual([
        { tenantId: 'ten_1', accountId: 'ca_alice', grant: 'grant.jwt' },
        { tenantId: 'ten_1', accountId: 'ca_alice', grant: 'grant.jwt', rejectedToken: TOKEN },
      ]);
      expect(cal.tokensSeen()).toEqual([TOKEN, REFRESHED]);
      expect([...cal.events.values()].filter((e) => e.summary === 'x')).toHaveLength(1);
    } finally {
      cal.tokens.add(TOKEN);
      cal.tokens.delete(REFRESHED);
    }
  });

  it('a 429 with Retry-After is waited out for free/busy (a POST that only reads), never retried for a create', async () => {
    const { call } = setup();
    const limited = {
      status: 429,
      headers: { 'retry-after': '1' },
      body: { error: { errors: [{ domain: 'usageLimits', reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' }], code: 429, message: 'Rate Limit Exceeded' } },
    };
    cal.override({ path: '/calendar/v3/freeBusy' }, limited);
    const started = Date.now();
    const result = structured('gcal_free_busy', await call('gcal_free_busy', { time_min: '2024-05-13T00:00:00Z', time_max: '2024-05-14T00:00:00Z' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(cal.requests).toHaveLength(2);
    expect(result.calendars).toEqual([{ id: 'primary', busy: [{ start: '2024-05-13T07:00:00Z', end: '2024-05-13T07:15:00Z' }], errors: [] }]);

    cal.reset();
    cal.override({ path: EVENTS, method: 'POST' }, limited);
    expect(errorText(await call('gcal_create_event', { summary: 'x', start: { date: '2024-05-20' }, end: { date: '2024-05-21' } }))).toBe(
      'Google Calendar answered HTTP 429: Rate Limit Exceeded (retry after 1 s)',
    );
    expect(cal.requests).toHaveLength(1);
  });

  it('a delete whose answer was lost is retried, and the 410 that follows still reports success', async () => {
    const { call } = setup();
    cal.override({ method: 'DELETE' }, () => {
      // Google deleted it, then the answer failed: a 503.
      cal.events.set('c0ffee0design02', { ...cal.events.get('c0ffee0design02')!, status: 'cancelled' });
      return { status: 503, body: { error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' } } };
    });
    expect(structured('gcal_delete_event', await call('gcal_delete_event', { event_id: 'c0ffee0design02' }))).toEqual({ event_id: 'c0ffee0design02', deleted: true, already_deleted: true });
    expect(cal.requests.map((r) => r.method)).toEqual(['DELETE', 'DELETE']);
  });
});
