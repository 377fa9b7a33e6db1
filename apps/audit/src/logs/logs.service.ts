import { Injectable } from '@nestjs/common';
import { VmcpError, type ToolCallLog } from '@vmcp/contracts';
import { DataSource, decodeCursor, encodeCursor } from '@vmcp/persistence';
import { Brackets } from 'typeorm';
import { ToolCallLogEntity } from './tool-call-log.entity.js';

export interface LogFilter {
  identifier?: string;
  tool_name?: string;
  status?: string;
  config_id?: string;
  connection_name?: string;
  agent_run_id?: string;
  error_code?: string;
  start_time?: string;
  end_time?: string;
}

/** Normalises an RFC 3339 time with any offset to the stored UTC form, so text comparison is right. */
function utc(value: string): string {
  return new Date(value).toISOString();
}

/** An entry as the API shows it: captured payloads only when there are some. */
export function toLog(e: ToolCallLogEntity): ToolCallLog {
  const { arguments: args, result, ...rest } = e;
  return {
    ...rest,
    source: e.source as 'mcp' | 'api',
    status: e.status as ToolCallLog['status'],
    ...(args !== null ? { arguments: JSON.parse(args) as unknown } : {}),
    ...(result !== null ? { result: JSON.parse(result) as unknown } : {}),
  };
}

@Injectable()
export class LogsService {
  constructor(private readonly ds: DataSource) {}

  async list(tenantId: string, filter: LogFilter, pageSize: number, pageToken?: string) {
    const qb = this.ds.getRepository(ToolCallLogEntity).createQueryBuilder('l').where('l.tenant_id = :t', { t: tenantId });
    for (const key of ['identifier', 'tool_name', 'status', 'config_id', 'connection_name', 'agent_run_id', 'error_code'] as const) {
      const value = filter[key];
      if (value !== undefined) qb.andWhere(`l.${key} = :${key}`, { [key]: value });
    }
    if (filter.start_time) qb.andWhere('l.started_at >= :start', { start: utc(filter.start_time) });
    if (filter.end_time) qb.andWhere('l.started_at < :end', { end: utc(filter.end_time) });
    if (pageToken) {
      const [startedAt, id] = decodeCursor(pageToken);
      qb.andWhere(
        new Brackets((w) =>
          w.where('l.started_at < :ps', { ps: startedAt }).orWhere('l.started_at = :ps AND l.execution_id < :pi', { ps: startedAt, pi: id }),
        ),
      );
    }
    const rows = await qb.orderBy('l.started_at', 'DESC').addOrderBy('l.execution_id', 'DESC').take(pageSize + 1).getMany();
    const page = rows.slice(0, pageSize).map(toLog);
    const last = page[page.length - 1];
    return { tool_call_logs: page, ...(rows.length > pageSize && last ? { next_page_token: encodeCursor(last.started_at, last.execution_id) } : {}) };
  }

  async get(tenantId: string, executionId: string) {
    const row = await this.ds.getRepository(ToolCallLogEntity).findOneBy({ execution_id: executionId, tenant_id: tenantId });
    if (!row) throw new VmcpError('NOT_FOUND', `tool call ${executionId} not found`);
    return { tool_call_log: toLog(row) };
  }
}
