import type { AuditEvent, ToolCallLog } from '@vmcp/contracts';

/**
 * Folds one audit event into a call's log row. Order does not matter (a late "started"
 * never undoes a finished row) and applying the same event twice changes nothing.
 */
export function mergeEvent(row: ToolCallLog | undefined, event: AuditEvent): ToolCallLog {
  const { type: _type, event_id: _id, ...facts } = event;
  const base: ToolCallLog = row ?? {
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
  };
  switch (event.type) {
    case 'started':
      return base;
    case 'finished':
      return {
        ...base,
        status: event.status,
        error_code: event.error_code,
        error_message: event.error_message,
        duration_ms: event.duration_ms,
        finished_at: event.finished_at,
      };
    case 'denied':
      return {
        ...base,
        status: 'DENIED',
        error_code: event.error_code,
        error_message: event.error_message,
        duration_ms: event.duration_ms,
        finished_at: event.finished_at,
      };
  }
}
