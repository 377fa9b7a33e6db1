import { BOOL, input, NEXT_PAGE_TOKEN, NSTR, output, PAGE_TOKEN, STR } from '../google/google-api.js';
import { ProviderError, ToolError } from '../http/provider-errors.js';
import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import {
  CALENDAR_ID,
  EVENT,
  EVENT_FIELDS,
  EVENT_ID,
  EVENT_PROPS,
  eventBody,
  eventResult,
  INSTANT,
  SEND_UPDATES,
  TIME_ZONE,
  type EventFieldsArgs,
  type GcalEvent,
} from './gcal.schemas.js';

const EVENTS = '/calendars/{calendarId}/events';
const EVENT_PATH = '/calendars/{calendarId}/events/{eventId}';

export interface ListEventsArgs {
  readonly calendar_id?: string;
  readonly time_min?: string;
  readonly time_max?: string;
  readonly query?: string;
  readonly single_events?: boolean;
  readonly order_by?: 'startTime' | 'updated';
  readonly max_results?: number;
  readonly page_token?: string;
  readonly time_zone?: string;
}

/** GET calendars/{calendarId}/events — developers.google.com/calendar/api/v3/reference/events/list */
export const listEvents = defineTool<ListEventsArgs>({
  name: 'gcal_list_events',
  title: 'List Google Calendar events',
  description:
    'Lists events of a Google Calendar (the user\'s primary calendar by default) in a time range, optionally matching free text (query searches title, description, location, attendees). ' +
    'Recurring events are expanded into their occurrences and sorted by start time unless single_events is false. ' +
    'Give time_min and time_max (RFC 3339 with offset) to bound the range: without them the listing starts at the calendar\'s first event. ' +
    'When next_page_token is not null, call again with page_token set to it and the same other arguments.',
  inputSchema: input(
    {
      calendar_id: CALENDAR_ID,
      time_min: INSTANT('Only events ending after this time'),
      time_max: INSTANT('Only events starting before this time'),
      query: { type: 'string', maxLength: 500, description: 'Free-text search terms.' },
      single_events: { type: 'boolean', default: true, description: 'Expand recurring events into occurrences (default true). False: one entry per recurring series.' },
      order_by: { type: 'string', enum: ['startTime', 'updated'], description: 'Order (default startTime when single_events, else unspecified). startTime needs single_events.' },
      max_results: { type: 'integer', minimum: 1, maximum: 250, default: 25, description: 'Events per page, at most 250 (default 25).' },
      page_token: PAGE_TOKEN,
      time_zone: { ...TIME_ZONE, description: 'Time zone of the times in the result (default: the calendar\'s).' },
    },
    [],
  ),
  outputSchema: output({
    calendar_time_zone: { ...NSTR, description: 'The calendar\'s own time zone.' },
    events: { type: 'array', items: EVENT },
    next_page_token: NEXT_PAGE_TOKEN,
  }),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const singleEvents = args.single_events ?? true;
    if (args.order_by === 'startTime' && !singleEvents) throw new ToolError('Invalid argument: order_by startTime needs single_events true');
    const response = await http.get<{ timeZone?: string; items?: GcalEvent[]; nextPageToken?: string }>(EVENTS, {
      params: { calendarId: args.calendar_id ?? 'primary' },
      query: {
        timeMin: args.time_min,
        timeMax: args.time_max,
        q: args.query || undefined,
        singleEvents,
        orderBy: args.order_by ?? (singleEvents ? 'startTime' : undefined),
        maxResults: args.max_results ?? 25,
        pageToken: args.page_token,
        timeZone: args.time_zone,
      },
    });
    return {
      calendar_time_zone: response.body.timeZone ?? null,
      events: (response.body.items ?? []).map(eventResult),
      next_page_token: response.body.nextPageToken ?? null,
    };
  },
});

export interface CreateEventArgs extends EventFieldsArgs {
  readonly calendar_id?: string;
  readonly send_updates?: 'all' | 'externalOnly' | 'none';
}

/** POST calendars/{calendarId}/events — developers.google.com/calendar/api/v3/reference/events/insert */
export const createEvent = defineTool<CreateEventArgs>({
  name: 'gcal_create_event',
  title: 'Create a Google Calendar event',
  description:
    'Creates an event in a Google Calendar (primary by default), as the user. A timed event takes start and end {date_time, time_zone}; an all-day event takes {date}, its end date being the day after the last day. ' +
    'Guests are invited only when send_updates is "all" or "externalOnly". Each call creates another event, so do not repeat it to retry; check with gcal_list_events. ' +
    'Returns the event with its id and link.',
  inputSchema: input({ calendar_id: CALENDAR_ID, ...EVENT_FIELDS, send_updates: SEND_UPDATES }, ['summary', 'start', 'end']),
  outputSchema: output(EVENT_PROPS),
  annotations: ANNOTATIONS.create,
  async run({ calendar_id, send_updates, ...fields }, http) {
    const response = await http.post<GcalEvent>(EVENTS, eventBody(fields, false), { params: { calendarId: calendar_id ?? 'primary' }, query: { sendUpdates: send_updates } });
    return eventResult(response.body);
  },
});

export interface UpdateEventArgs extends CreateEventArgs {
  readonly event_id: string;
}

/** PATCH calendars/{calendarId}/events/{eventId} — developers.google.com/calendar/api/v3/reference/events/patch */
export const updateEvent = defineTool<UpdateEventArgs>({
  name: 'gcal_update_event',
  title: 'Update a Google Calendar event',
  description:
    'Changes fields of an existing Google Calendar event: only the fields given change (title, description, location, start, end, guests). ' +
    'attendees replaces the whole guest list. For an occurrence of a recurring event, pass the occurrence\'s id to change only it. ' +
    'Repeating the same update changes nothing more. Returns the updated event.',
  inputSchema: input({ calendar_id: CALENDAR_ID, event_id: EVENT_ID, ...EVENT_FIELDS, send_updates: SEND_UPDATES }, ['event_id']),
  outputSchema: output(EVENT_PROPS),
  annotations: ANNOTATIONS.update,
  async run({ calendar_id, event_id, send_updates, ...fields }, http) {
    const body = eventBody(fields, true);
    if (Object.keys(body).length === 0) throw new ToolError('Invalid argument: nothing to update; give at least one of summary, description, location, start, end, attendees');
    const response = await http.patch<GcalEvent>(EVENT_PATH, body, { params: { calendarId: calendar_id ?? 'primary', eventId: event_id }, query: { sendUpdates: send_updates } });
    return eventResult(response.body);
  },
});

export interface DeleteEventArgs {
  readonly calendar_id?: string;
  readonly event_id: string;
  readonly send_updates?: 'all' | 'externalOnly' | 'none';
}

/** DELETE calendars/{calendarId}/events/{eventId} — developers.google.com/calendar/api/v3/reference/events/delete */
export const deleteEvent = defineTool<DeleteEventArgs>({
  name: 'gcal_delete_event',
  title: 'Delete a Google Calendar event',
  description:
    'Deletes (cancels) an event of a Google Calendar. Guests are told only when send_updates is "all" or "externalOnly". ' +
    'Deleting a recurring event\'s id deletes the whole series; an occurrence\'s id deletes that occurrence. ' +
    'An event already deleted is reported with already_deleted: true, so repeating the call is harmless.',
  inputSchema: input({ calendar_id: CALENDAR_ID, event_id: EVENT_ID, send_updates: SEND_UPDATES }, ['event_id']),
  outputSchema: output({ event_id: STR, deleted: BOOL, already_deleted: BOOL }),
  annotations: ANNOTATIONS.remove,
  async run(args, http) {
    try {
      // 204 No Content on success.
      await http.delete(EVENT_PATH, { params: { calendarId: args.calendar_id ?? 'primary', eventId: args.event_id }, query: { sendUpdates: args.send_updates } });
      return { event_id: args.event_id, deleted: true, already_deleted: false };
    } catch (err) {
      // Google answers 410 Gone ("Resource has been deleted") for an event deleted before.
      if (err instanceof ProviderError && err.status === 410) return { event_id: args.event_id, deleted: true, already_deleted: true };
      throw err;
    }
  },
});
