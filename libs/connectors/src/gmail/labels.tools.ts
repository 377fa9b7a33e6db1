import { input, output } from '../google/google-api.js';
import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import { LABEL, type GmailLabel } from './gmail.schemas.js';

/** GET users/me/labels — developers.google.com/gmail/api/reference/rest/v1/users.labels/list */
export const listLabels = defineTool<Record<string, never>>({
  name: 'gmail_list_labels',
  title: 'List Gmail labels',
  description:
    "Lists the labels of the user's Gmail mailbox: system labels (INBOX, SENT, DRAFT, SPAM, TRASH, UNREAD, STARRED, IMPORTANT, CATEGORY_…) and the user's own. " +
    'Use it to find the id of a label by its name before filtering gmail_fetch_mails with label_ids.',
  inputSchema: input({}, []),
  outputSchema: output({ labels: { type: 'array', items: LABEL } }),
  annotations: ANNOTATIONS.read,
  async run(_args, http) {
    const response = await http.get<{ labels?: GmailLabel[] }>('/users/me/labels');
    return { labels: (response.body.labels ?? []).map((l) => ({ id: l.id, name: l.name, type: l.type === 'system' ? 'system' : 'user' })) };
  },
});
