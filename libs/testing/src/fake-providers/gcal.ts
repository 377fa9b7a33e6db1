import { startFakeProvider, type FakeProvider, type FakeRequest, type FakeResponse } from './fake-provider.js';
import { bearerToken, googleError, googleGate, pageOffset, pageToken } from './google.js';

/**
 * A local stand-in for the Google Calendar API v3
 * (developers.google.com/calendar/api/v3/reference) under `/calendar/v3`, reproducing the
 * documented requests and answers of the endpoints the gcal connector uses: events.list
 * (timeMin/timeMax with offset, q, singleEvents, orderBy=startTime only with singleEvents,
 * maxResults, pageToken), events.insert and events.patch (sendUpdates), events.delete (204,
 * then 410 Gone), freebusy.query, Google's error body and its 401.
 */
export interface FakeGcal extends FakeProvider {
  /** Accepted bearer tokens; change it to revoke one. */
  readonly tokens: Set<string>;
  /** Events of the primary calendar by id, as Google returns them (`reset` restores the seed). */
  readonly events: Map<string, GcalEventRecord>;
  /** The tokens seen on requests, in order. */
  tokensSeen(): string[];
}

export interface FakeGcalOptions {
  /** Accepted tokens (default: one, `ya29.fixture_token_0001`). */
  readonly tokens?: readonly string[];
}

export interface GcalTimeRecord {
  date?: string;
  dateTime?: string;
  timeZone?: string;
}

export type GcalEventRecord = Record<string, unknown> & { id: string; status: string; start: GcalTimeRecord; end: GcalTimeRecord; summary?: string; updated: string };

export const CALENDAR_OWNER = 'alice@example.com';
const TIME_ZONE = 'Europe/Paris';
/** Europe/Paris in May (summer time): the offset of an all-day event's midnight. */
const OFFSET = '+02:00';
/** Another person's calendar the user may see free/busy times of. */
const BOB = 'bob@example.com';
const BOB_BUSY = [{ start: '2024-05-13T12:00:00Z', end: '2024-05-13T13:00:00Z' }];

const RFC3339_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

const person = (email: string, extra: Record<string, unknown> = {}) => ({ email, ...extra });

function seed(): Map<string, GcalEventRecord> {
  const base = (id: string, created: string) => ({
    kind: 'calendar#event',
    etag: `"3425${id.length}000000000000"`,
    id,
    status: 'confirmed',
    htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${CALENDAR_OWNER}`).toString('base64url')}`,
    created,
    updated: created.replace('.000Z', '.123Z'),
    creator: person(CALENDAR_OWNER, { self: true }),
    organizer: person(CALENDAR_OWNER, { self: true }),
    iCalUID: `${id}@google.com`,
    sequence: 0,
    reminders: { useDefault: true },
    eventType: 'default',
  });
  const events: GcalEventRecord[] = [
    {
      ...base('c0ffee0standup1', '2024-05-01T08:00:00.000Z'),
      summary: 'Team standup',
      start: { dateTime: `2024-05-13T09:00:00${OFFSET}`, timeZone: TIME_ZONE },
      end: { dateTime: `2024-05-13T09:15:00${OFFSET}`, timeZone: TIME_ZONE },
      attendees: [person(CALENDAR_OWNER, { organizer: true, self: true, responseStatus: 'accepted' }), person(BOB, { displayName: 'Bob', responseStatus: 'needsAction' })],
    },
    {
      ...base('c0ffee0design02', '2024-05-02T08:00:00.000Z'),
      summary: 'Design review',
      description: 'Review of the Q2 mockups.',
      location: 'Room 4',
      hangoutLink: 'https://meet.google.com/abc-defg-hij',
      start: { dateTime: `2024-05-14T14:00:00${OFFSET}`, timeZone: TIME_ZONE },
      end: { dateTime: `2024-05-14T15:00:00${OFFSET}`, timeZone: TIME_ZONE },
    },
    {
      ...base('c0ffee0offsite3', '2024-05-03T08:00:00.000Z'),
      summary: 'Offsite',
      start: { date: '2024-05-16' },
      end: { date: '2024-05-18' },
      transparency: 'transparent',
    },
  ];
  return new Map(events.map((e) => [e.id, e]));
}

/** Milliseconds of an event time (an all-day date is midnight in the calendar's zone). */
function instant(t: GcalTimeRecord | undefined): number {
  if (!t) return NaN;
  return t.dateTime ? Date.parse(t.dateTime) : Date.parse(`${t.date}T00:00:00${OFFSET}`);
}

export async function startFakeGcal(options: FakeGcalOptions = {}): Promise<FakeGcal> {
  const tokens = new Set(options.tokens ?? ['ya29.fixture_token_0001']);
  const events = seed();
  let nextId = 1;

  const json = (status: number, body: unknown): FakeResponse => ({ status, body });
  const notFound = () => googleError(404, 'Not Found', 'notFound');
  const badRequest = (message = 'Bad Request') => googleError(400, message, message === 'Bad Request' ? 'badRequest' : 'invalid');
  const isPrimary = (r: FakeRequest) => r.params.calendarId === 'primary' || r.params.calendarId === CALENDAR_OWNER;
  const now = () => new Date().toISOString();

  /** Checks an EventDateTime the way events.insert does. */
  const timeProblem = (t: unknown, which: 'start' | 'end'): string | undefined => {
    if (typeof t !== 'object' || t === null) return `Missing ${which} time.`;
    const { date, dateTime, timeZone } = t as GcalTimeRecord;
    if (date && dateTime) return 'Bad Request';
    if (date) return /^\d{4}-\d{2}-\d{2}$/.test(date) ? undefined : 'Bad Request';
    if (!dateTime) return `Missing ${which} time.`;
    if (!RFC3339_WITH_OFFSET.test(dateTime) && !timeZone) return `Missing time zone definition for ${which} time.`;
    return undefined;
  };

  const rangeProblem = (start: GcalTimeRecord, end: GcalTimeRecord) => (instant(end) <= instant(start) ? 'The specified time range is empty.' : undefined);

  /** Applies an events.patch body: nested objects merged, null clears, arrays replaced. */
  const patched = (e: GcalEventRecord, body: Record<string, unknown>): GcalEventRecord => {
    const next: Record<string, unknown> = { ...e };
    for (const [key, value] of Object.entries(body)) {
      if (value === null) delete next[key];
      else if ((key === 'start' || key === 'end') && typeof value === 'object') {
        const merged: Record<string, unknown> = { ...(e[key] as GcalTimeRecord) };
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          if (v === null) delete merged[k];
          else merged[k] = v;
        }
        next[key] = merged;
      } else next[key] = value;
    }
    return next as GcalEventRecord;
  };

  const provider = await startFakeProvider({
    prefix: '/calendar/v3',
    gate: googleGate(tokens),
    routes: [
      {
        method: 'GET',
        path: '/calendars/:calendarId/events',
        handle: (r) => {
          if (!isPrimary(r)) return notFound();
          const { timeMin, timeMax, q, singleEvents, orderBy } = r.query as Record<string, string | undefined>;
          for (const t of [timeMin, timeMax]) if (t !== undefined && !RFC3339_WITH_OFFSET.test(t)) return badRequest();
          if (orderBy !== undefined && orderBy !== 'startTime' && orderBy !== 'updated') return badRequest(`Invalid value for: ${orderBy} is not a valid value`);
          if (orderBy === 'startTime' && singleEvents !== 'true') return badRequest('The requested ordering is not available for the particular query.');
          const max = Math.min(2500, Math.max(1, Number(r.query.maxResults ?? 250) || 250));
          const offset = pageOffset(r.query.pageToken);
          if (offset === undefined) return badRequest('Invalid page token value.');
          const words = (q ?? '').toLowerCase().match(/\S+/g) ?? [];
          let list = [...events.values()]
            .filter((e) => e.status !== 'cancelled')
            .filter((e) => timeMin === undefined || instant(e.end) > Date.parse(timeMin))
            .filter((e) => timeMax === undefined || instant(e.start) < Date.parse(timeMax))
            .filter((e) => words.every((w) => JSON.stringify([e.summary, e.description, e.location, e.attendees]).toLowerCase().includes(w)));
          if (orderBy === 'startTime') list = list.sort((a, b) => instant(a.start) - instant(b.start));
          if (orderBy === 'updated') list = list.sort((a, b) => a.updated.localeCompare(b.updated));
          const page = list.slice(offset, offset + max);
          return json(200, {
            kind: 'calendar#events',
            etag: '"p33c9n5tlhv8o80o"',
            summary: CALENDAR_OWNER,
            description: '',
            updated: '2024-05-12T10:00:00.000Z',
            timeZone: TIME_ZONE,
            accessRole: 'owner',
            defaultReminders: [{ method: 'popup', minutes: 10 }],
            ...(offset + max < list.length ? { nextPageToken: pageToken(offset + max) } : {}),
            items: page,
          });
        },
      },
      {
        method: 'POST',
        path: '/calendars/:calendarId/events',
        handle: (r) => {
          if (!isPrimary(r)) return notFound();
          const b = (r.body ?? {}) as Record<string, unknown> & { start?: GcalTimeRecord; end?: GcalTimeRecord };
          const problem = timeProblem(b.start, 'start') ?? timeProblem(b.end, 'end') ?? rangeProblem(b.start!, b.end!);
          if (problem) return badRequest(problem);
          const stamp = now();
          const id = `n3w0ev${String(nextId++).padStart(4, '0')}`;
          const attendees = Array.isArray(b.attendees) ? (b.attendees as Array<Record<string, unknown>>).map((a) => ({ ...a, responseStatus: 'needsAction' })) : undefined;
          const created: GcalEventRecord = {
            kind: 'calendar#event',
            etag: `"${Date.now()}000"`,
            id,
            status: 'confirmed',
            htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${CALENDAR_OWNER}`).toString('base64url')}`,
            created: stamp,
            updated: stamp,
            ...b,
            ...(attendees ? { attendees } : {}),
            creator: person(CALENDAR_OWNER, { self: true }),
            organizer: person(CALENDAR_OWNER, { self: true }),
            start: b.start!,
            end: b.end!,
            iCalUID: `${id}@google.com`,
            sequence: 0,
            reminders: { useDefault: true },
            eventType: 'default',
          };
          events.set(id, created);
          return json(200, created);
        },
      },
      {
        method: 'PATCH',
        path: '/calendars/:calendarId/events/:eventId',
        handle: (r) => {
          const e = isPrimary(r) ? events.get(r.params.eventId!) : undefined;
          if (!e) return notFound();
          const next = patched(e, (r.body ?? {}) as Record<string, unknown>);
          const problem = timeProblem(next.start, 'start') ?? timeProblem(next.end, 'end') ?? rangeProblem(next.start, next.end);
          if (problem) return badRequest(problem);
          next.updated = now();
          next.sequence = Number(e.sequence ?? 0) + 1;
          events.set(next.id, next);
          return json(200, next);
        },
      },
      {
        method: 'DELETE',
        path: '/calendars/:calendarId/events/:eventId',
        handle: (r) => {
          const e = isPrimary(r) ? events.get(r.params.eventId!) : undefined;
          if (!e) return notFound();
          if (e.status === 'cancelled') return googleError(410, 'Resource has been deleted', 'deleted');
          events.set(e.id, { ...e, status: 'cancelled', updated: now() });
          return { status: 204 };
        },
      },
      {
        method: 'POST',
        path: '/freeBusy',
        handle: (r) => {
          const b = (r.body ?? {}) as { timeMin?: unknown; timeMax?: unknown; items?: unknown };
          if (typeof b.timeMin !== 'string') return badRequest('Missing timeMin parameter.');
          if (typeof b.timeMax !== 'string') return badRequest('Missing timeMax parameter.');
          if (!RFC3339_WITH_OFFSET.test(b.timeMin) || !RFC3339_WITH_OFFSET.test(b.timeMax)) return badRequest();
          const from = Date.parse(b.timeMin);
          const to = Date.parse(b.timeMax);
          if (to < from) return badRequest('The specified time range is empty.');
          const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
          const clip = (busy: Array<{ start: string; end: string }>) => busy.filter((x) => Date.parse(x.end) > from && Date.parse(x.start) < to);
          const calendars: Record<string, unknown> = {};
          for (const item of Array.isArray(b.items) ? (b.items as Array<{ id?: string }>) : []) {
            const id = String(item.id);
            if (id === 'primary' || id === CALENDAR_OWNER) {
              const busy = [...events.values()]
                .filter((e) => e.status !== 'cancelled' && e.transparency !== 'transparent')
                .map((e) => ({ start: iso(instant(e.start)), end: iso(instant(e.end)) }))
                .sort((x, y) => x.start.localeCompare(y.start));
              calendars[id] = { busy: clip(busy) };
            } else if (id === BOB) {
              calendars[id] = { busy: clip(BOB_BUSY) };
            } else {
              calendars[id] = { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] };
            }
          }
          return json(200, { kind: 'calendar#freeBusy', timeMin: new Date(from).toISOString(), timeMax: new Date(to).toISOString(), calendars });
        },
      },
    ],
    notFound: () => ({ status: 404, body: 'Not Found' }),
  });

  return {
    ...provider,
    reset() {
      provider.reset();
      events.clear();
      for (const [id, e] of seed()) events.set(id, e);
    },
    tokens,
    events,
    tokensSeen: () => provider.requests.map((r) => bearerToken(r) ?? ''),
  };
}
