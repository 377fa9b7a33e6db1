import { z } from 'zod';
import { defineEvent } from './rpc.js';

/** An MCP session's key in the sessions bucket: a SHA-256 digest (base64url), never the session id. */
const SessionKey = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

/**
 * Published by the edge replica that ended an MCP session (DELETE), so every replica drops
 * the copy it may hold at once. `key` is the session's key in the sessions bucket (a
 * SHA-256 digest, base64url), never the session id. Wire-compatible: do not rename.
 */
export const sessionEnded = defineEvent({
  subject: 'vmcp.edge.v1.events.session_ended',
  payload: z.object({ key: SessionKey }),
});

/**
 * Published by the edge replica that changed an MCP session's record (`logging/setLevel`),
 * so every replica drops the copy it may hold at once and reads the new record on the
 * session's next request. `key` as in sessionEnded. Wire-compatible: do not rename.
 */
export const sessionChanged = defineEvent({
  subject: 'vmcp.edge.v1.events.session_changed',
  payload: z.object({ key: SessionKey }),
});

/**
 * An agent cancelled a request of its 2025-era session (`notifications/cancelled`). That
 * notification is a POST of its own and may reach another edge replica than the one
 * holding the call, so it is published to every replica; the holder stops the call.
 * `key` is the session's key (as in sessionEnded), `request_id` the JSON-RPC id of the
 * cancelled request. Wire-compatible: do not rename.
 */
export const callCancelled = defineEvent({
  subject: 'vmcp.edge.v1.events.call_cancelled',
  payload: z.object({
    key: SessionKey,
    request_id: z.union([z.string().max(256), z.number().int()]),
  }),
});

/**
 * The agent's answer to a request vmcp sent it during a call (a relayed `sampling/createMessage`
 * or `elicitation/create`). The answer is a POST of its own and may reach another edge
 * replica than the one holding the call: it is published under the request's own id
 * (`vmcp.edge.v1.events.client_answer.<uuid>`, the `token` option), and the holder takes it
 * only from the session it asked (`key` as in sessionEnded). Wire-compatible: do not rename.
 */
export const clientAnswer = defineEvent({
  subject: 'vmcp.edge.v1.events.client_answer',
  payload: z.object({
    key: SessionKey,
    result: z.record(z.string(), z.unknown()).optional(),
    error: z.object({ code: z.number().int(), message: z.string().max(1000) }).optional(),
  }),
});
