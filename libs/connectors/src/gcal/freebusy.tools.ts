import { input, obj, output, STR, STRINGS } from '../google/google-api.js';
import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import { INSTANT, TIME_ZONE } from './gcal.schemas.js';

export interface FreeBusyArgs {
  readonly time_min: string;
  readonly time_max: string;
  readonly calendar_ids?: readonly string[];
  readonly time_zone?: string;
}

interface GcalFreeBusy {
  readonly timeMin: string;
  readonly timeMax: string;
  readonly calendars?: Readonly<Record<string, { readonly busy?: ReadonlyArray<{ start: string; end: string }>; readonly errors?: ReadonlyArray<{ domain?: string; reason?: string }> }>>;
}

/** POST freeBusy — developers.google.com/calendar/api/v3/reference/freebusy/query */
export const freeBusy = defineTool<FreeBusyArgs>({
  name: 'gcal_free_busy',
  title: 'Find busy times in Google Calendars',
  description:
    'Returns the busy intervals of one or more calendars (the user\'s primary calendar by default, or colleagues\' emails and calendar ids) between time_min and time_max, ' +
    'without event details. Use it to find a free slot before gcal_create_event. A calendar the user cannot see comes back with errors (e.g. notFound) and no busy times. Changes nothing.',
  inputSchema: input(
    {
      time_min: INSTANT('Start of the interval'),
      time_max: INSTANT('End of the interval'),
      calendar_ids: {
        type: 'array',
        items: { type: 'string', pattern: '^[^\\s/]{1,255}$' },
        minItems: 1,
        maxItems: 50,
        uniqueItems: true,
        default: ['primary'],
        description: 'Calendars to check: "primary", calendar ids, or people\'s emails (default ["primary"]).',
      },
      time_zone: { ...TIME_ZONE, description: 'Time zone of the busy times returned (default UTC).' },
    },
    ['time_min', 'time_max'],
  ),
  outputSchema: output({
    time_min: STR,
    time_max: STR,
    calendars: {
      type: 'array',
      items: obj({
        id: STR,
        busy: { type: 'array', items: obj({ start: STR, end: STR }) },
        errors: { ...STRINGS, description: 'Why Google could not answer for this calendar (notFound, …); empty when it did.' },
      }),
    },
  }),
  // A POST that only reads: safe to repeat.
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const ids = args.calendar_ids?.length ? args.calendar_ids : ['primary'];
    const response = await http.post<GcalFreeBusy>('/freeBusy', {
      timeMin: args.time_min,
      timeMax: args.time_max,
      ...(args.time_zone ? { timeZone: args.time_zone } : {}),
      items: ids.map((id) => ({ id })),
    });
    const calendars = response.body.calendars ?? {};
    return {
      time_min: response.body.timeMin,
      time_max: response.body.timeMax,
      calendars: ids.map((id) => {
        const c = calendars[id];
        return {
          id,
          busy: (c?.busy ?? []).map((b) => ({ start: b.start, end: b.end })),
          errors: c ? (c.errors ?? []).map((e) => e.reason ?? e.domain ?? 'unknown') : ['notFound'],
        };
      }),
    };
  },
});
