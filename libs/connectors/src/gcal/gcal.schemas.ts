import { BOOL, NSTR, obj, STR } from '../google/google-api.js';
import { ToolError } from '../http/provider-errors.js';
import type { JsonSchema } from '../native/native-connector.definition.js';

/**
 * Schema fragments and Google Calendar's objects for the gcal tools
 * (developers.google.com/calendar/api/v3/reference). Arguments are snake_case and mapped
 * to Google's names; results are a compact subset of the Event resource.
 */

// ---- input fragments ------------------------------------------------------------------

export const CALENDAR_ID = {
  type: 'string',
  pattern: '^[^\\s/]{1,255}$',
  default: 'primary',
  description: 'The calendar: "primary" (the user\'s main calendar, default) or a calendar id such as "team@group.calendar.google.com" or a person\'s email.',
} as const;

export const EVENT_ID = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,1024}$', description: 'The event id, as gcal_list_events or gcal_create_event return it.' } as const;

/** RFC 3339 with a mandatory offset, as Google requires for timeMin, timeMax and freeBusy. */
export const INSTANT = (what: string) => ({ type: 'string', format: 'date-time', description: `${what}, RFC 3339 with offset, e.g. 2024-05-01T09:00:00+02:00 or 2024-05-01T07:00:00Z.` }) as const;

export const TIME_ZONE = {
  type: 'string',
  pattern: '^[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+){0,2}$',
  maxLength: 64,
  description: 'An IANA time zone name, e.g. "Europe/Paris", "America/New_York", "UTC".',
} as const;

/** `2024-05-01T10:00:00`, optionally with fractions and an offset. */
const LOCAL_DATE_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,9})?(?:Z|[+-]\\d{2}:\\d{2})?$';

export const EVENT_TIME = (which: 'start' | 'end') =>
  ({
    type: 'object',
    description:
      which === 'start'
        ? 'When the event starts: {date_time, time_zone} for a timed event, or {date} for an all-day event.'
        : 'When the event ends: same form as start. For an all-day event, date is the day AFTER the last day (exclusive).',
    properties: {
      date_time: {
        type: 'string',
        pattern: LOCAL_DATE_TIME,
        description: 'e.g. "2024-05-01T10:00:00+02:00", or "2024-05-01T10:00:00" with time_zone.',
      },
      time_zone: { ...TIME_ZONE, description: 'The time zone of date_time (required when date_time has no offset); also the zone a recurring event repeats in.' },
      date: { type: 'string', format: 'date', description: 'An all-day event\'s date, "2024-05-01".' },
    },
    additionalProperties: false,
    // Exactly one form. Each branch names its property so strict validators accept it.
    oneOf: [
      { properties: { date_time: { type: 'string' } }, required: ['date_time'] },
      { properties: { date: { type: 'string' } }, required: ['date'] },
    ],
  }) as const;

export const ATTENDEES = {
  type: 'array',
  maxItems: 100,
  items: {
    type: 'object',
    properties: {
      email: { type: 'string', format: 'email', maxLength: 320 },
      display_name: { type: 'string', maxLength: 200 },
      optional: { type: 'boolean', description: 'An optional attendee (default false).' },
    },
    required: ['email'],
    additionalProperties: false,
  },
  description: 'The guests. On update this replaces the whole list, so include the existing guests to keep them.',
} as const;

export const SEND_UPDATES = {
  type: 'string',
  enum: ['all', 'externalOnly', 'none'],
  description: 'Who gets an email about the change: all guests, only guests outside the organization, or nobody (default none).',
} as const;

/** The fields gcal_create_event sets and gcal_update_event changes. */
export const EVENT_FIELDS = {
  summary: { type: 'string', maxLength: 1024, description: 'The title.' },
  description: { type: 'string', maxLength: 8192, description: 'Notes; may contain HTML.' },
  location: { type: 'string', maxLength: 1024, description: 'Free-form location, e.g. an address or a room.' },
  start: EVENT_TIME('start'),
  end: EVENT_TIME('end'),
  attendees: ATTENDEES,
} satisfies Record<string, JsonSchema>;

// ---- output fragments -----------------------------------------------------------------

const TIME_OUT = obj({ date_time: NSTR, date: NSTR, time_zone: NSTR });

export const EVENT_PROPS = {
  id: STR,
  status: { ...STR, description: 'confirmed, tentative or cancelled.' },
  summary: NSTR,
  description: NSTR,
  location: NSTR,
  start: TIME_OUT,
  end: TIME_OUT,
  all_day: BOOL,
  attendees: {
    type: 'array',
    items: obj({ email: STR, display_name: NSTR, response_status: { ...STR, description: 'needsAction, declined, tentative or accepted.' }, optional: BOOL, organizer: BOOL }),
  },
  organizer: { ...NSTR, description: 'Email of the organizer.' },
  html_link: { ...NSTR, description: 'The event in Google Calendar\'s web UI.' },
  hangout_link: { ...NSTR, description: 'The Google Meet link, if any.' },
  recurring_event_id: { ...NSTR, description: 'For an occurrence of a recurring event: the recurring event\'s id.' },
  created: NSTR,
  updated: NSTR,
} satisfies Record<string, JsonSchema>;

export const EVENT = obj(EVENT_PROPS);

// ---- Google's objects and mapping -------------------------------------------------------

/** EventDateTime (…/v3/reference/events#resource). */
export interface GcalTime {
  readonly date?: string;
  readonly dateTime?: string;
  readonly timeZone?: string;
}

export interface GcalAttendee {
  readonly email?: string;
  readonly displayName?: string;
  readonly responseStatus?: string;
  readonly optional?: boolean;
  readonly organizer?: boolean;
}

/** Events resource, as far as the tools read it. */
export interface GcalEvent {
  readonly id: string;
  readonly status?: string;
  readonly htmlLink?: string;
  readonly created?: string;
  readonly updated?: string;
  readonly summary?: string;
  readonly description?: string;
  readonly location?: string;
  readonly organizer?: { readonly email?: string };
  readonly start?: GcalTime;
  readonly end?: GcalTime;
  readonly recurringEventId?: string;
  readonly attendees?: readonly GcalAttendee[];
  readonly hangoutLink?: string;
}

export interface EventTimeArg {
  readonly date_time?: string;
  readonly time_zone?: string;
  readonly date?: string;
}

export interface AttendeeArg {
  readonly email: string;
  readonly display_name?: string;
  readonly optional?: boolean;
}

export interface EventFieldsArgs {
  readonly summary?: string;
  readonly description?: string;
  readonly location?: string;
  readonly start?: EventTimeArg;
  readonly end?: EventTimeArg;
  readonly attendees?: readonly AttendeeArg[];
}

/**
 * An event time as Google takes it. `clear`: for PATCH, which merges nested objects, the
 * other form is nulled so an all-day event can become a timed one and back.
 */
function googleTime(t: EventTimeArg, which: string, clear: boolean): Record<string, string | null> {
  if (t.date !== undefined) return { date: t.date, ...(clear ? { dateTime: null, timeZone: null } : {}) };
  // The input schema requires one of date and date_time.
  const dateTime = t.date_time ?? '';
  if (!/(?:Z|[+-]\d{2}:\d{2})$/.test(dateTime) && !t.time_zone) {
    throw new ToolError(`Invalid argument: ${which}.date_time has no UTC offset, so ${which}.time_zone is required`);
  }
  return { dateTime, ...(t.time_zone ? { timeZone: t.time_zone } : {}), ...(clear ? { date: null } : {}) };
}

/** The request body of events.insert or events.patch: only the fields given. */
export function eventBody(args: EventFieldsArgs, patch: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (args.summary !== undefined) body.summary = args.summary;
  if (args.description !== undefined) body.description = args.description;
  if (args.location !== undefined) body.location = args.location;
  if (args.start) body.start = googleTime(args.start, 'start', patch);
  if (args.end) body.end = googleTime(args.end, 'end', patch);
  if (args.attendees) {
    body.attendees = args.attendees.map((a) => ({ email: a.email, ...(a.display_name ? { displayName: a.display_name } : {}), ...(a.optional !== undefined ? { optional: a.optional } : {}) }));
  }
  return body;
}

const timeOut = (t: GcalTime | undefined) => ({ date_time: t?.dateTime ?? null, date: t?.date ?? null, time_zone: t?.timeZone ?? null });

export function eventResult(e: GcalEvent) {
  return {
    id: e.id,
    status: e.status ?? 'confirmed',
    summary: e.summary ?? null,
    description: e.description ?? null,
    location: e.location ?? null,
    start: timeOut(e.start),
    end: timeOut(e.end),
    all_day: e.start?.date !== undefined && e.start.dateTime === undefined,
    attendees: (e.attendees ?? []).flatMap((a) =>
      a.email ? [{ email: a.email, display_name: a.displayName ?? null, response_status: a.responseStatus ?? 'needsAction', optional: a.optional ?? false, organizer: a.organizer ?? false }] : [],
    ),
    organizer: e.organizer?.email ?? null,
    html_link: e.htmlLink ?? null,
    hangout_link: e.hangoutLink ?? null,
    recurring_event_id: e.recurringEventId ?? null,
    created: e.created ?? null,
    updated: e.updated ?? null,
  };
}
