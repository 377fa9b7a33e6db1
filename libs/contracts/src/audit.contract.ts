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

/** Lower-case hex SHA-256. */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex SHA-256');

/**
 * What an event says about the call's arguments: always their size and digest (bytes and
 * SHA-256 of their canonical JSON, see canonicalJson), the value itself only when the
 * config opts in to payload capture, with secret-looking values redacted and at most
 * AUDIT_CAPTURE_MAX_BYTES (else a `{vmcp_truncated: true, size, preview}` marker).
 * Optional so events from before these fields still parse.
 */
const ArgumentsDigest = {
  arguments_size: z.number().int().min(0).optional(),
  arguments_sha256: Sha256Hex.optional(),
  arguments: z.unknown().optional(),
};
/** The same for the tool's result (the MCP CallToolResult), on `finished` events. */
const ResultDigest = {
  result_size: z.number().int().min(0).optional(),
  result_sha256: Sha256Hex.optional(),
  result: z.unknown().optional(),
};

/** Largest captured payload (UTF-8 bytes of its redacted canonical JSON) stored as is. */
export const AUDIT_CAPTURE_MAX_BYTES = 32 * 1024;

/**
 * One record on the AUDIT stream. A call is `started` (before any effect) then
 * `finished`; a refused call is one `denied` record. `event_id` makes delivery idempotent.
 */
export const AuditEvent = z.discriminatedUnion('type', [
  CallFacts.extend({ type: z.literal('started'), event_id: z.string(), started_at: Timestamp, ...ArgumentsDigest }),
  CallFacts.extend({
    type: z.literal('finished'),
    event_id: z.string(),
    started_at: Timestamp,
    ...ResultDigest,
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
    ...ArgumentsDigest,
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
  /** Bytes and SHA-256 of the canonical JSON of the arguments and of the result; null when not known. */
  arguments_size: z.number().int().nullable(),
  arguments_sha256: z.string().nullable(),
  result_size: z.number().int().nullable(),
  result_sha256: z.string().nullable(),
  /** Only when the config captures payloads: the redacted arguments and result. */
  arguments: z.unknown().optional(),
  result: z.unknown().optional(),
});
export type ToolCallLog = z.infer<typeof ToolCallLog>;

export const ToolCallLogFilter = z.object({
  identifier: Identifier.optional(),
  tool_name: z.string().max(256).optional(),
  status: CallStatus.optional(),
  config_id: ConfigId.optional(),
  connection_name: Name.optional(),
  agent_run_id: z.string().max(255).optional(),
  /** A denial reason or failure code, e.g. TOOL_NOT_FOUND with status DENIED. */
  error_code: ErrorCode.optional(),
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

/** Where a tenant's hash chain first fails to verify, and how. */
export const ChainBreakReason = z.enum([
  /** The record's content no longer hashes to its stored hash (edited). */
  'hash_mismatch',
  /** No record at this sequence number (deleted). */
  'missing',
  /** The record at this position says it belongs at another (rows moved). */
  'reordered',
  /** The record does not link to the hash of the one before it (replaced or re-linked). */
  'prev_mismatch',
]);
export type ChainBreakReason = z.infer<typeof ChainBreakReason>;

/** A link of the chain: a record's sequence number and hash. */
export const ChainLink = z.object({ seq: z.number().int().min(0), hash: Sha256Hex });

export const ChainVerification = z.object({
  /** True when every record of the range links to the one before it and hashes right. */
  ok: z.boolean(),
  /** Records checked (up to the first broken one). */
  checked: z.number().int().min(0),
  /** The range actually checked; null when it holds no record. */
  first_seq: z.number().int().nullable(),
  last_seq: z.number().int().nullable(),
  /** Hash of `last_seq`'s record: kept outside vmcp, it shows later that the chain was not rewritten. */
  last_hash: z.string().nullable(),
  /** The last purged record (0 when none was): verification starts from its hash. */
  anchor_seq: z.number().int().min(0),
  first_broken: z.object({ seq: z.number().int(), reason: ChainBreakReason, event_id: z.string().optional() }).optional(),
});
export type ChainVerification = z.infer<typeof ChainVerification>;

const Seq = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/**
 * Verifies one stretch of a tenant's chain, at most `max_records` records per request so
 * no request runs long: a reply with `resume` is continued by asking again with it (the
 * last record checked); verifyAuditChain in @vmcp/messaging does the loop.
 */
export const verifyChain = defineRpc({
  subject: 'vmcp.audit.v1.chain.verify',
  request: TenantScoped.extend({
    from_seq: Seq.optional(),
    to_seq: Seq.optional(),
    resume: ChainLink.optional(),
    max_records: z.number().int().min(1).max(100_000).default(20_000),
  }).strict(),
  reply: ChainVerification.extend({ resume: ChainLink.optional() }),
});

/** A tenant's audit settings; `updated_at` is null while the defaults apply. */
export const AuditSettings = z.object({
  /** Entries older than this many days are purged (default 90). */
  retention_days: z.number().int().min(1).max(3650),
  updated_at: Timestamp.nullable(),
});
export type AuditSettings = z.infer<typeof AuditSettings>;

export const getSettings = defineRpc({
  subject: 'vmcp.audit.v1.settings.get',
  request: TenantScoped.strict(),
  reply: z.object({ settings: AuditSettings }),
});

export const putSettings = defineRpc({
  subject: 'vmcp.audit.v1.settings.put',
  request: TenantScoped.extend({ retention_days: z.number().int().min(1).max(3650) }).strict(),
  reply: z.object({ settings: AuditSettings }),
});
