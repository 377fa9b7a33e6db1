import { z } from 'zod';
import { CallSource } from './audit.contract.js';
import { AccountStatus, Identifier, Name, Timestamp } from './common.js';
import { ErrorCode } from './errors.js';
import { AccountId, ConfigId, ExecutionId, idSchema, TenantId } from './ids.js';

// Subjects and event shapes below are wire-compatible and public (webhooks, and the event
// feed of the bus API): never rename or remove a field in place, add a new version.

/**
 * Every tenant-visible event is stored on one JetStream stream under
 * `vmcp.events.v1.<tenant_id>.<type>`, so a consumer can filter by tenant and by type.
 */
export const EVENTS_SUBJECT_PREFIX = 'vmcp.events.v1';

export const EventType = z.enum(['connected_account.status_changed', 'tool_call.started', 'tool_call.finished', 'tool_call.denied']);
export type EventType = z.infer<typeof EventType>;

export const EventId = idSchema('evt');

export function eventSubject(tenantId: string, type: EventType): string {
  return `${EVENTS_SUBJECT_PREFIX}.${tenantId}.${type}`;
}

/** A connected account's status changed (only sent when it really changed). No secret is part of it. */
export const ConnectedAccountStatusChanged = z.object({
  /** Unique per event; the same id on every delivery attempt (use it to drop duplicates). */
  event_id: EventId,
  type: z.literal('connected_account.status_changed'),
  tenant_id: TenantId,
  /** When policy committed the change. */
  occurred_at: Timestamp,
  data: z.object({
    connected_account_id: AccountId,
    connection_name: Name,
    identifier: Identifier,
    previous_status: AccountStatus,
    status: AccountStatus,
  }),
});
export type ConnectedAccountStatusChanged = z.infer<typeof ConnectedAccountStatusChanged>;

/**
 * What every tool-call event says about the call: the audit trail's facts, never a
 * credential. `arguments` and `result` appear only when the call's config captures payloads
 * (`audit.capture_payloads`), redacted and capped exactly as in the audit trail.
 */
const ToolCallFacts = z.object({
  execution_id: ExecutionId,
  config_id: ConfigId.nullable(),
  connection_name: Name.nullable(),
  connector: z.string().nullable(),
  connected_account_id: AccountId.nullable(),
  identifier: Identifier,
  tool_name: z.string().max(256),
  source: CallSource,
  agent_run_id: z.string().max(255).nullable(),
  started_at: Timestamp,
});

const toolCallEvent = <T extends string, D extends z.ZodRawShape>(type: T, data: D) =>
  z.object({
    /** The audit record's id: the same on every delivery (use it to drop duplicates). */
    event_id: EventId,
    type: z.literal(type),
    tenant_id: TenantId,
    /** When the call started (`started`), or ended or was refused. */
    occurred_at: Timestamp,
    data: ToolCallFacts.extend(data),
  });

/** A call was allowed and is about to run (its audit record is stored). */
export const ToolCallStarted = toolCallEvent('tool_call.started', {
  status: z.literal('STARTED'),
  arguments: z.unknown().optional(),
});
export type ToolCallStarted = z.infer<typeof ToolCallStarted>;

/** A call ran: `SUCCESS`, or `ERROR` with a code (`UPSTREAM_ERROR` for a tool's own error result). */
export const ToolCallFinished = toolCallEvent('tool_call.finished', {
  status: z.enum(['SUCCESS', 'ERROR']),
  error_code: ErrorCode.nullable(),
  error_message: z.string().max(2000).nullable(),
  finished_at: Timestamp,
  duration_ms: z.number().int().min(0),
  result: z.unknown().optional(),
});
export type ToolCallFinished = z.infer<typeof ToolCallFinished>;

/** A call was refused before any effect; `error_code` is the reason (TOOL_NOT_FOUND, ACCOUNT_NOT_ACTIVE, …). */
export const ToolCallDenied = toolCallEvent('tool_call.denied', {
  status: z.literal('DENIED'),
  error_code: ErrorCode,
  error_message: z.string().max(2000),
  finished_at: Timestamp,
  duration_ms: z.number().int().min(0),
  arguments: z.unknown().optional(),
});
export type ToolCallDenied = z.infer<typeof ToolCallDenied>;

/** Any event on the stream. */
export const VmcpEvent = z.discriminatedUnion('type', [ConnectedAccountStatusChanged, ToolCallStarted, ToolCallFinished, ToolCallDenied]);
export type VmcpEvent = z.infer<typeof VmcpEvent>;

/**
 * What every event has, whatever its type: enough to route it (tenant, type) and to
 * deliver it unchanged, including types newer than the reader.
 */
export const EventEnvelope = z.looseObject({
  event_id: EventId,
  type: z.string().min(1).max(128),
  tenant_id: TenantId,
  occurred_at: Timestamp,
  data: z.record(z.string(), z.unknown()),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;
