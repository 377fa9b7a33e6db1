import { z } from 'zod';
import { ConnectionTarget, TenantScoped, ToolDefinition } from './common.js';
import { CredentialGrant } from './grants.js';
import { AccountId, ExecutionId } from './ids.js';
import { defineEvent, defineRpc } from './rpc.js';

// Subjects below are wire-compatible identifiers: never rename one in place.

/** The tools a connection offers to one connected account (discovered upstream, cached). */
export const listConnectionTools = defineRpc({
  subject: 'vmcp.executor.v1.tools.list',
  request: TenantScoped.extend({ connection: ConnectionTarget, account_id: AccountId.nullable(), grant: CredentialGrant.nullable() }).strict(),
  reply: z.object({ tools: z.array(ToolDefinition) }),
});

/**
 * An MCP CallToolResult, passed through unchanged: content blocks (text, image, audio,
 * resource links, embedded resources), structuredContent, isError and _meta.
 */
export const CallToolResult = z.looseObject({
  content: z.array(z.looseObject({ type: z.string() })).default([]),
  structuredContent: z.record(z.string(), z.unknown()).optional(),
  isError: z.boolean().optional(),
});
export type CallToolResult = z.infer<typeof CallToolResult>;

/** MCP log levels (RFC 5424 severities), least severe first: the order is the filter's. */
export const LoggingLevel = z.enum(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency']);
export type LoggingLevel = z.infer<typeof LoggingLevel>;

/** Whether a message of `level` passes a minimum of `min` (RFC 5424 order). */
export function logLevelPasses(level: LoggingLevel, min: LoggingLevel): boolean {
  return LoggingLevel.options.indexOf(level) >= LoggingLevel.options.indexOf(min);
}

/** Bound of a log message's `data`, serialized as JSON (the connector truncates beyond it). */
export const MAX_LOG_DATA_BYTES = 8 * 1024;

/**
 * What the agent of a 2025-era session can be asked during a call, reduced to the parts MCP
 * defines (the edge drops everything else): sampling, with context inclusion and tool use,
 * and elicitation in form mode (applying schema defaults or not) and URL mode, less what the
 * call's config does not allow (its `client_requests`). The executor's upstream session
 * declares exactly this, so an upstream asks only what the agent can answer and may be
 * asked, and the few possible shapes keep the upstream sessions pooled.
 */
const Declared = z.object({}).strict();
export const RelayedCapabilities = z
  .object({
    sampling: z.object({ context: Declared.optional(), tools: Declared.optional() }).strict().optional(),
    elicitation: z.object({ form: z.object({ applyDefaults: z.literal(true).optional() }).strict().optional(), url: Declared.optional() }).strict().optional(),
  })
  .strict();
export type RelayedCapabilities = z.infer<typeof RelayedCapabilities>;

/** The server-to-client requests vmcp relays from an upstream to the agent during a call. */
export const ClientRequestMethod = z.enum(['sampling/createMessage', 'elicitation/create']);
export type ClientRequestMethod = z.infer<typeof ClientRequestMethod>;

/** Runs one allowed call under the account's own credential. */
export const callTool = defineRpc({
  subject: 'vmcp.executor.v1.tools.call',
  request: TenantScoped.extend({
    execution_id: ExecutionId,
    connection: ConnectionTarget,
    account_id: AccountId,
    /** Policy's grant for this call; the vault resolves the credential only with it. */
    grant: CredentialGrant,
    tool_name: z.string().min(1).max(256),
    arguments: z.record(z.string(), z.unknown()),
    timeout_ms: z.number().int().min(100).max(600_000),
    /**
     * The agent asked for progress (`_meta.progressToken`): the executor publishes the
     * upstream's progress notifications on `callProgress`, under this execution id.
     */
    progress: z.literal(true).optional(),
    /**
     * The agent asked for log messages at this level or above: the executor publishes the
     * upstream's `notifications/message` of this call on `callLog`, under this execution id.
     */
    logs: LoggingLevel.optional(),
    /**
     * The agent can answer these server-to-client requests: the upstream session declares
     * them, and the upstream's requests during this call are relayed on `clientRequest`.
     */
    client_capabilities: RelayedCapabilities.optional(),
  }).strict(),
  reply: z.object({ result: CallToolResult }),
});

/** The agent's JSON-RPC error answer to a relayed request, passed back to the upstream. */
export const ClientRequestRefusal = z.object({ code: z.number().int(), message: z.string().max(1000) });

/**
 * A request the upstream sent during a running call (`sampling/createMessage`,
 * `elicitation/create`), from the executor running it to the edge that holds the call, on
 * `vmcp.executor.v1.calls.client_request.<execution_id>` (the `token` option). The edge
 * asks its agent on the call's own stream and replies with the agent's result, or its
 * JSON-RPC error (`refused`); a vmcp error reply means the agent was not asked or did not
 * answer in time. Params never carry the account's credential (the executor withholds a
 * request that would).
 */
export const clientRequest = defineRpc({
  subject: 'vmcp.executor.v1.calls.client_request',
  request: z.object({ execution_id: ExecutionId, method: ClientRequestMethod, params: z.record(z.string(), z.unknown()) }).strict(),
  reply: z.union([z.object({ result: z.record(z.string(), z.unknown()) }).strict(), z.object({ refused: ClientRequestRefusal }).strict()]),
});

/**
 * One progress notification of a running call, published on
 * `vmcp.executor.v1.events.progress.<execution_id>` (the `token` option of publish and subscribe) to the edge
 * that holds the call. The upstream's numbers and message only: never arguments,
 * results or credentials (the message is dropped when it contains one).
 */
export const callProgress = defineEvent({
  subject: 'vmcp.executor.v1.events.progress',
  payload: z.object({
    execution_id: ExecutionId,
    progress: z.number().finite(),
    total: z.number().finite().optional(),
    message: z.string().max(1000).optional(),
  }),
});

/**
 * One log message (`notifications/message`) the upstream sent on a running call's own
 * stream, published on `vmcp.executor.v1.events.log.<execution_id>` (the `token` option)
 * to the edge that holds the call. Cleaned of the account's credential (dropped when that
 * cannot be ensured) and bounded; never arguments or results.
 */
export const callLog = defineEvent({
  subject: 'vmcp.executor.v1.events.log',
  payload: z.object({
    execution_id: ExecutionId,
    level: LoggingLevel,
    logger: z.string().max(256).optional(),
    /** Any JSON; serialized at most MAX_LOG_DATA_BYTES characters (plus the truncation mark). */
    data: z.unknown().refine((d) => d !== undefined && (JSON.stringify(d)?.length ?? Infinity) <= MAX_LOG_DATA_BYTES + 16, 'log data too large'),
  }),
});

/**
 * Stops a running call: every executor replica hears it (no queue group) and aborts the
 * call with this execution id if it runs it, which cancels it upstream too. Published by
 * the edge that holds the call when its agent cancelled it or went away.
 */
export const cancelCall = defineEvent({
  subject: 'vmcp.executor.v1.calls.cancel',
  payload: z.object({ execution_id: ExecutionId }),
});

/** Published when an upstream says its tool list changed, so cached lists are dropped. */
export const toolsChanged = defineEvent({
  subject: 'vmcp.executor.v1.events.tools_changed',
  payload: z.object({ tenant_id: z.string(), connection_id: z.string(), account_id: z.string().nullable() }),
});

/**
 * Published when a provider refused an account's credential for good (after one refresh,
 * for OAuth): policy marks the account EXPIRED until the user authorizes again or a new
 * credential is stored.
 */
export const credentialRefused = defineEvent({
  subject: 'vmcp.executor.v1.events.credential_refused',
  payload: z.object({ tenant_id: z.string(), connection_id: z.string(), account_id: AccountId }),
});
