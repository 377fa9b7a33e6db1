import { z } from 'zod';
import { Identifier, Name, PageRequest, TenantScoped, Timestamp } from './common.js';
import { ErrorCode } from './errors.js';
import { AccountId, ConfigId, ExecutionId, TenantId } from './ids.js';
import { defineRpc } from './rpc.js';

// Subjects below are wire-compatible identifiers: never rename one in place.

/** JetStream subjects of audit events: `vmcp.audit.v1.events.<tenant_id>`. */
export const AUDIT_EVENTS_SUBJECT_PREFIX = 'vmcp.audit.v1.events';
export function auditEventSubject(tenantId: string): string {
  return `${AUDIT_EVENTS_SUBJECT_PREFIX}.${tenantId}`;
}

export const CallSource = z.enum(['mcp', 'api']);
export const CallStatus = z.enum(['STARTED', 'SUCCESS', 'ERROR', 'DENIED']);
export type CallStatus = z.infer<typeof CallStatus>;

const CallFacts = z.object({
  execution_id: ExecutionId,
  tenant_id: TenantId,
  config_id: ConfigId.nullable(),
  connection_name: Name.nullable(),
  connector: z.string().nullable(),
  connected_account_id: AccountId.nullable(),
  identifier: Identifier,
  tool_name: z.string().max(256),
  source: CallSource,
  agent_run_id: z.string().max(255).nullable(),
});

/**
 * One record on the AUDIT stream. A call is `started` (before any effect) then
 * `finished`; a refused call is one `denied` record. `event_id` makes delivery idempotent.
 */
export const AuditEvent = z.discriminatedUnion('type', [
  CallFacts.extend({ type: z.literal('started'), event_id: z.string(), started_at: Timestamp }),
  CallFacts.extend({
    type: z.literal('finished'),
    event_id: z.string(),
    started_at: Timestamp,
    finished_at: Timestamp,
    status: z.enum(['SUCCESS', 'ERROR']),
    error_code: ErrorCode.nullable(),
    error_message: z.string().max(2000).nullable(),
    duration_ms: z.number().int().min(0),
  }),
  CallFacts.extend({
    type: z.literal('denied'),
    event_id: z.string(),
    started_at: Timestamp,
    finished_at: Timestamp,
    error_code: ErrorCode,
    error_message: z.string().max(2000),
    duration_ms: z.number().int().min(0),
  }),
]);
export type AuditEvent = z.infer<typeof AuditEvent>;

export const ToolCallLog = CallFacts.extend({
  status: CallStatus,
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  duration_ms: z.number().int().nullable(),
  started_at: Timestamp,
  finished_at: Timestamp.nullable(),
});
export type ToolCallLog = z.infer<typeof ToolCallLog>;

export const ToolCallLogFilter = z.object({
  identifier: Identifier.optional(),
  tool_name: z.string().max(256).optional(),
  status: CallStatus.optional(),
  config_id: ConfigId.optional(),
  connection_name: Name.optional(),
  agent_run_id: z.string().max(255).optional(),
  start_time: z.iso.datetime({ offset: true }).optional(),
  end_time: z.iso.datetime({ offset: true }).optional(),
});

export const listToolCallLogs = defineRpc({
  subject: 'vmcp.audit.v1.logs.list',
  request: TenantScoped.extend({ ...ToolCallLogFilter.shape, ...PageRequest.shape }).strict(),
  reply: z.object({ tool_call_logs: z.array(ToolCallLog), next_page_token: z.string().optional() }),
});

export const getToolCallLog = defineRpc({
  subject: 'vmcp.audit.v1.logs.get',
  request: TenantScoped.extend({ execution_id: ExecutionId }).strict(),
  reply: z.object({ tool_call_log: ToolCallLog }),
});
