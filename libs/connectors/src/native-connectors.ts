import { gcal } from './gcal/gcal.connector.js';
import { github } from './github/github.connector.js';
import { gmail } from './gmail/gmail.connector.js';
import { jira } from './jira/jira.connector.js';
import type { NativeConnectorDefinition } from './native/native-connector.definition.js';
import { notion } from './notion/notion.connector.js';
import { salesforce } from './salesforce/salesforce.connector.js';
import { slack } from './slack/slack.connector.js';

/**
 * Every native connector this build ships. Adding one is one import and one line here
 * (alphabetical, one per line, so parallel additions merge cleanly); the catalog, the
 * registry, the API and policy's mapping checks pick it up from this list.
 */
export const NATIVE_CONNECTORS: readonly NativeConnectorDefinition[] = [
  gcal,
  github,
  gmail,
  jira,
  notion,
  salesforce,
  slack,
];
