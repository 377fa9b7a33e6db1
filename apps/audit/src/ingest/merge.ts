import { canonicalJson, type AuditEvent, type ToolCallLog } from '@vmcp/contracts';

/** A log row as stored: captured payloads as canonical JSON text. */
export type StoredLog = Omit<ToolCallLog, 'arguments' | 'result'> & { arguments: string | null; result: string | null };

/**
 * Folds one audit event into a call's log row. Order does not matter (a late "started"
 * never undoes a finished row) and applying the same event twice changes nothing.
 */
export function mergeEvent(row: StoredLog | undefined, event: AuditEvent): StoredLog {
  const { type: _type, event_id: _id, ...facts } = event;
  const base: StoredLog = row ?? {
    execution_id: facts.execution_id,
    tenant_id: facts.tenant_id,
    config_id: facts.config_id,
    connection_name: facts.connection_name,
    connector: facts.connector,
    connected_account_id: facts.connected_account_id,
    identifier: facts.identifier,
    tool_name: facts.tool_name,
    source: facts.source,
    agent_run_id: facts.agent_run_id,
    status: 'STARTED',
    error_code: null,
    error_message: null,
    duration_ms: null,
    started_at: facts.started_at,
    finished_at: null,
    arguments_size: null,
    arguments_sha256: null,
    result_size: null,
    result_sha256: null,
    arguments: null,
    result: null,
  };
  switch (event.type) {
    case 'started':
      return withArguments(base, event);
    case 'finished':
      return {
        ...base,
        status: event.status,
        error_code: event.error_code,
        error_message: event.error_message,
        duration_ms: event.duration_ms,
        finished_at: event.finished_at,
        result_size: event.result_size ?? base.result_size,
        result_sha256: event.result_sha256 ?? base.result_sha256,
        result: event.result === undefined ? base.result : canonicalJson(event.result),
      };
    case 'denied':
      return withArguments(
        {
          ...base,
          status: 'DENIED',
          error_code: event.error_code,
          error_message: event.error_message,
          duration_ms: event.duration_ms,
          finished_at: event.finished_at,
        },
        event,
      );
  }
}

function withArguments(row: StoredLog, event: Extract<AuditEvent, { type: 'started' | 'denied' }>): StoredLog {
  return {
    ...row,
    arguments_size: event.arguments_size ?? row.arguments_size,
    arguments_sha256: event.arguments_sha256 ?? row.arguments_sha256,
    arguments: event.arguments === undefined ? row.arguments : canonicalJson(event.arguments),
  };
}
