import { createHash } from 'node:crypto';
import { events, type AuditEvent, type VmcpEvent } from '@vmcp/contracts';

/**
 * The tenant event (`tool_call.started|finished|denied`) that an audit record announces.
 * It carries the record's own id, so every replica and every redelivery of the record makes
 * the same event and JetStream's duplicate window drops the copies. Only what the tenant can
 * already read in its audit trail goes in: the payloads only when the audit event carries
 * them, which it does only when the config captures payloads.
 */
export function toolCallEvent(record: AuditEvent): VmcpEvent {
  const facts = {
    execution_id: record.execution_id,
    config_id: record.config_id,
    connection_name: record.connection_name,
    connector: record.connector,
    connected_account_id: record.connected_account_id,
    identifier: record.identifier,
    tool_name: record.tool_name,
    source: record.source,
    agent_run_id: record.agent_run_id,
    started_at: record.started_at,
  };
  const envelope = { event_id: eventIdOf(record.event_id), tenant_id: record.tenant_id };
  switch (record.type) {
    case 'started':
      return {
        ...envelope,
        type: 'tool_call.started',
        occurred_at: record.started_at,
        data: { ...facts, status: 'STARTED', ...(record.arguments !== undefined ? { arguments: record.arguments } : {}) },
      };
    case 'finished':
      return {
        ...envelope,
        type: 'tool_call.finished',
        occurred_at: record.finished_at,
        data: {
          ...facts,
          status: record.status,
          error_code: record.error_code,
          error_message: record.error_message,
          finished_at: record.finished_at,
          duration_ms: record.duration_ms,
          ...(record.result !== undefined ? { result: record.result } : {}),
        },
      };
    case 'denied':
      return {
        ...envelope,
        type: 'tool_call.denied',
        occurred_at: record.finished_at,
        data: {
          ...facts,
          status: 'DENIED',
          error_code: record.error_code,
          error_message: record.error_message,
          finished_at: record.finished_at,
          duration_ms: record.duration_ms,
          ...(record.arguments !== undefined ? { arguments: record.arguments } : {}),
        },
      };
  }
}

const EVENT_ID = events.EventId;

/**
 * The edge gives audit records `evt_` ids, used as they are. Any other id (an older or a
 * foreign producer) becomes a stable `evt_` id derived from it, so deduplication still holds.
 */
function eventIdOf(auditEventId: string): string {
  if (EVENT_ID.safeParse(auditEventId).success) return auditEventId;
  return `evt_${createHash('sha256').update(auditEventId).digest('hex').slice(0, 32)}`;
}
