import { z } from 'zod';
import { API_ROUTES, AuthorizationLinkBody, ConfigAccountsBody, ExecuteToolBody, ListAccountsQuery, ListLogsQuery, MintTokenBody, ScopedToolsQuery } from './api.contract.js';
import { Name } from './common.js';
import { EventEnvelope } from './events.contract.js';
import { AccountId, ConfigId, ExecutionId, TokenId } from './ids.js';
import { defineRpc } from './rpc.js';

// The public bus API (issue 9, docs/bus-api.md): what a tenant's own services do over NATS
// instead of HTTP. Wire-compatible and public like the REST API: never rename a subject or
// a field in place, add a `v2` instead.
//
// - A request is a JSON object on `vmcp.api.v1.<operation>`, carrying the tenant API key in
//   the `Vmcp-Api-Key` header. Every operation acts in that key's tenant only.
// - Its fields are the REST operation's path parameters plus its JSON body (POST) or its
//   query parameters (GET), at the top level, with the same names and limits.
// - The reply is the REST operation's JSON body, unchanged, or `{"error": {code, message}}`
//   with the same codes the REST API puts in its error bodies. Every request gets a reply:
//   a missing or wrong key, a malformed or oversized payload, another tenant's ids all
//   answer with an error, never silence.

export const BUS_API_SUBJECT_PREFIX = 'vmcp.api.v1';
/** The header that carries the tenant API key (the same key as REST's bearer). */
export const API_KEY_HEADER = 'Vmcp-Api-Key';
/**
 * Largest request payload the responder reads; a larger one is PAYLOAD_TOO_LARGE. Half of
 * nats-server's default max_payload (1 MiB): a request must fit, with its envelope, into the
 * messages the edge sends on to policy and the executor (a tool's arguments go along), and a
 * payload past max_payload never leaves the caller's client at all.
 */
export const BUS_API_MAX_PAYLOAD_BYTES = 512 * 1024;
/** The queue group every edge replica serves the bus API in (one replica answers each request). */
export const BUS_API_QUEUE = 'vmcp-api';

function restReply(method: string, path: string): z.ZodType {
  const route = API_ROUTES.find((r) => r.method === method && r.path === path);
  if (!route) throw new Error(`no REST route ${method} ${path}`);
  return route.response;
}

const op = <Req extends z.ZodType>(name: string, request: Req, method: string, path: string) =>
  defineRpc({ subject: `${BUS_API_SUBJECT_PREFIX}.${name}`, request, reply: restReply(method, path) });

export const mintToken = op('tokens.mint', MintTokenBody.extend({ config_id: ConfigId }), 'post', '/api/v1/mcp/configs/{config_id}/tokens');
export const revokeToken = op('tokens.revoke', z.strictObject({ token_id: TokenId }), 'delete', '/api/v1/mcp/tokens/{token_id}');
export const scopedTools = op('tools.scoped', ScopedToolsQuery, 'get', '/api/v1/tools/scoped');
export const executeTool = op('tools.execute', ExecuteToolBody, 'post', '/api/v1/execute_tool');
export const listAccounts = op('connected_accounts.list', ListAccountsQuery, 'get', '/api/v1/connected_accounts');
export const getAccount = op('connected_accounts.get', z.strictObject({ id: AccountId }), 'get', '/api/v1/connected_accounts/{id}');
export const authorizationLink = op('connected_accounts.authorization_link', AuthorizationLinkBody, 'post', '/api/v1/connected_accounts/authorization_link');
export const configAccounts = op(
  'configs.connected_accounts',
  ConfigAccountsBody.extend({ config_id: ConfigId }),
  'post',
  '/api/v1/mcp/configs/{config_id}/connected_accounts',
);
export const listLogs = op('tool_call_logs.list', ListLogsQuery, 'get', '/api/v1/tool_call_logs');
export const getLog = op('tool_call_logs.get', z.strictObject({ execution_id: ExecutionId }), 'get', '/api/v1/tool_call_logs/{execution_id}');

// The event feed. Events of the tenant (vmcp.events.v1.<tenant>.<type>: tool calls, account
// status changes) are kept in a JetStream stream; a caller reads them through a named,
// durable cursor of its tenant ("billing", "crm-sync"): vmcp keeps one JetStream durable
// consumer per tenant and name, so a reader that was down resumes where it acknowledged.
// Callers never touch JetStream themselves, so no NATS permission can let one tenant's
// reader see another's events.

/** A reader's name for its cursor; each tenant has its own namespace of them. */
export const EventConsumerName = Name;

/** Where a new cursor starts; ignored when the cursor exists already. */
export const EventStart = z.enum(['new', 'all']);

export const pullEvents = defineRpc({
  subject: `${BUS_API_SUBJECT_PREFIX}.events.pull`,
  request: z.strictObject({
    consumer: EventConsumerName,
    /** Event types to receive (e.g. `tool_call.finished`); all when absent. Fixed when the cursor is made. */
    types: z.array(z.string().regex(/^[a-z_]+\.[a-z_]+$/).max(64)).min(1).max(16).optional(),
    start: EventStart.default('new'),
    max_events: z.number().int().min(1).max(256).default(64),
    /** How long to wait for the first event when none is pending; an empty batch after it. */
    wait_ms: z.number().int().min(0).max(30_000).default(5_000),
  }),
  reply: z.object({
    events: z.array(
      z.object({
        /** Acknowledge with it (events.ack) once handled; unacknowledged events come again after `redeliver_after_ms`. */
        ack_id: z.string().min(1).max(512),
        /** The event's position in the tenant's feed, increasing. */
        seq: z.number().int().positive(),
        /** How often it was delivered (more than 1 after a reader failed to acknowledge). */
        deliveries: z.number().int().positive(),
        event: EventEnvelope,
      }),
    ),
    redeliver_after_ms: z.number().int().positive(),
  }),
});

export const ackEvents = defineRpc({
  subject: `${BUS_API_SUBJECT_PREFIX}.events.ack`,
  request: z.strictObject({ consumer: EventConsumerName, ack_ids: z.array(z.string().min(1).max(512)).min(1).max(256) }),
  reply: z.object({ acked: z.number().int().min(0) }),
});

export const deleteEventConsumer = defineRpc({
  subject: `${BUS_API_SUBJECT_PREFIX}.events.delete_consumer`,
  request: z.strictObject({ consumer: EventConsumerName }),
  reply: z.object({ consumer: EventConsumerName, deleted: z.literal(true) }),
});

/** Every operation of the bus API, for the responder, the SDK and the docs. */
export const BUS_API_OPERATIONS = [
  mintToken,
  revokeToken,
  scopedTools,
  executeTool,
  listAccounts,
  getAccount,
  authorizationLink,
  configAccounts,
  listLogs,
  getLog,
  pullEvents,
  ackEvents,
  deleteEventConsumer,
] as const;
