import { GOOGLE_OAUTH, googleErrorMessage } from '../google/google-api.js';
import { defineNativeConnector } from '../native/native-connector.definition.js';
import { listLabels } from './labels.tools.js';
import { createDraft, fetchMails, getMessage, sendMail } from './messages.tools.js';

/**
 * Gmail API v1 (developers.google.com/gmail/api/reference/rest), as the signed-in user
 * (`users/me`). OAuth through Google with the gmail.modify scope (read, send, drafts,
 * labels; no permanent deletion); a bearer_token connection takes an access token obtained
 * elsewhere (it expires within the hour and cannot be refreshed here).
 */
export const gmail = defineNativeConnector({
  id: 'gmail',
  name: 'Gmail',
  description: "Gmail (API v1): search and read the user's mail, send mail and create drafts, list labels.",
  auth_types: ['oauth2', 'bearer_token'],
  oauth: { ...GOOGLE_OAUTH, scopes: ['https://www.googleapis.com/auth/gmail.modify'] },
  baseUrl: 'https://gmail.googleapis.com/gmail/v1',
  http: { provider: 'Gmail', errorMessage: googleErrorMessage },
  tools: [fetchMails, getMessage, sendMail, createDraft, listLabels],
});
