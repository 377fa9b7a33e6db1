import { GOOGLE_OAUTH, googleErrorMessage } from '../google/google-api.js';
import { defineNativeConnector } from '../native/native-connector.definition.js';
import { createEvent, deleteEvent, listEvents, updateEvent } from './events.tools.js';
import { freeBusy } from './freebusy.tools.js';

/**
 * Google Calendar API v3 (developers.google.com/calendar/api/v3/reference). OAuth through
 * Google with calendar.events (read and write events) and calendar.freebusy (freeBusy
 * needs one of calendar, calendar.readonly, calendar.freebusy or calendar.events.freebusy).
 */
export const gcal = defineNativeConnector({
  id: 'gcal',
  name: 'Google Calendar',
  description: "Google Calendar (API v3): list, create, update and delete events of the user's calendars; free/busy times.",
  auth_types: ['oauth2', 'bearer_token'],
  oauth: { ...GOOGLE_OAUTH, scopes: ['https://www.googleapis.com/auth/calendar.events', 'https://www.googleapis.com/auth/calendar.freebusy'] },
  baseUrl: 'https://www.googleapis.com/calendar/v3',
  http: { provider: 'Google Calendar', errorMessage: googleErrorMessage },
  tools: [listEvents, createEvent, updateEvent, deleteEvent, freeBusy],
});
