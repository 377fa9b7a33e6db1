import { paginate } from '../pagination.js';
import type { Requester } from '../transport.js';
import type { PageRequest, ToolCallLog, ToolCallLogFilter, ToolCallLogPage } from '../types.js';

/** The audit log of tool calls, newest first. */
export class ToolCallLogs {
  constructor(private readonly transport: Requester) {}

  list(filter: ToolCallLogFilter & PageRequest = {}): Promise<ToolCallLogPage> {
    return this.transport.json('toolCallLogs.list', { query: filter });
  }

  /** Every matching entry, page after page as the loop gets there. */
  iterate(filter: ToolCallLogFilter = {}): AsyncIterable<ToolCallLog> {
    return paginate((page_token) => this.list({ ...filter, page_token }), (p) => p.tool_call_logs);
  }

  get(executionId: string): Promise<{ tool_call_log: ToolCallLog }> {
    return this.transport.json('toolCallLogs.get', { params: { execution_id: executionId } });
  }

  /**
   * Every matching entry from one streamed NDJSON reply, yielded line by line as it
   * arrives: memory stays at one line whatever the range. For a bulk copy to a SIEM or a
   * warehouse; `iterate` is the same data a page per request.
   */
  export(filter: ToolCallLogFilter = {}): AsyncIterable<ToolCallLog> {
    return this.transport.ndjson('toolCallLogs.export', { query: filter }) as AsyncIterable<ToolCallLog>;
  }
}
