import { VmcpConnectionError, VmcpTimeoutError, type ToolCallLog, type ToolCallLogFilter, type Vmcp } from '@vmcp/sdk';
import type { Command } from 'commander';
import { leaf, session, type RunContext } from '../context.js';
import { usageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { cell, printFields, printJson, printJsonLine, printTable } from '../output.js';
import { parseDuration, parsePositiveInt, parseTime } from '../parse.js';

const STATUSES = ['SUCCESS', 'ERROR', 'DENIED', 'STARTED'] as const;
const PAGE_MAX = 200;

interface FilterOptions {
  identifier?: string;
  tool?: string;
  status?: string;
  config?: string;
  connection?: string;
  agentRunId?: string;
  since?: string;
  until?: string;
}

function withFilters(cmd: Command, { until = true }: { until?: boolean } = {}): Command {
  cmd
    .option('--identifier <id>', 'only this user')
    .option('--tool <name>', 'only this tool')
    .option('--status <status>', `only this status: ${STATUSES.join(', ')}`)
    .option('--config <id>', 'only calls through this MCP config')
    .option('--connection <name>', 'only calls on this connection')
    .option('--agent-run-id <id>', 'only this agent run')
    .option('--since <time>', 'started at or after: RFC 3339, or a duration back from now (15m, 2h, 1d)');
  if (until) cmd.option('--until <time>', 'started at or before: RFC 3339, or a duration back from now');
  return cmd;
}

/** The API's list filter from the flags. */
export function toFilter(o: FilterOptions, now: number): ToolCallLogFilter {
  const status = o.status?.toUpperCase();
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) throw usageError(`--status: expected one of ${STATUSES.join(', ')}, got "${o.status}"`);
  return {
    ...(o.identifier ? { identifier: o.identifier } : {}),
    ...(o.tool ? { tool_name: o.tool } : {}),
    ...(status ? { status: status as ToolCallLog['status'] } : {}),
    ...(o.config ? { config_id: o.config } : {}),
    ...(o.connection ? { connection_name: o.connection } : {}),
    ...(o.agentRunId ? { agent_run_id: o.agentRunId } : {}),
    ...(o.since ? { start_time: parseTime(o.since, now, '--since') } : {}),
    ...(o.until ? { end_time: parseTime(o.until, now, '--until') } : {}),
  };
}

/** The audit trail of tool calls. */
export function registerLogs(program: Command, ctx: RunContext): void {
  const logs = program.command('logs').description('the audit log of tool calls (tool_call_logs)');
  const now = () => ctx.io.now?.() ?? Date.now();

  withFilters(leaf(logs, 'list', 'audit entries, newest first'))
    .option('--limit <n>', 'at most this many entries (default 50)')
    .option('--page-token <token>', 'continue from a previous --json reply')
    .action(async (o: FilterOptions & { limit?: string; pageToken?: string }, cmd: Command) => {
      const s = session(ctx, cmd);
      const filter = toFilter(o, now());
      const limit = o.limit !== undefined ? parsePositiveInt(o.limit, '--limit') : 50;
      const vmcp = s.client();
      const entries: ToolCallLog[] = [];
      let page_token = o.pageToken;
      do {
        const page = await vmcp.toolCallLogs.list({ ...filter, page_size: Math.min(limit - entries.length, PAGE_MAX), ...(page_token ? { page_token } : {}) });
        entries.push(...page.tool_call_logs);
        page_token = page.next_page_token;
      } while (page_token && entries.length < limit);
      if (s.json) return printJson(s.io, { tool_call_logs: entries, ...(page_token ? { next_page_token: page_token } : {}) });
      printTable(
        s.io,
        'tool calls',
        ['started_at', 'status', 'tool', 'identifier', 'connection', 'duration', 'error', 'execution_id'],
        entries.map((e) => [e.started_at, e.status, e.tool_name, e.identifier, e.connection_name, duration(e), e.error_code, e.execution_id]),
      );
      if (page_token) s.io.stderr.write(`more entries: --limit ${limit * 2}, or --page-token ${page_token}\n`);
    });

  leaf(logs, 'get <execution_id>', 'one audit entry').action(async (id: string, _o: unknown, cmd: Command) => {
    const s = session(ctx, cmd);
    const reply = await s.client().toolCallLogs.get(id);
    if (s.json) return printJson(s.io, reply);
    const e = reply.tool_call_log;
    printFields(s.io, [
      ['execution_id', e.execution_id],
      ['status', e.status],
      ['tool_name', e.tool_name],
      ['identifier', e.identifier],
      ['source', e.source],
      ['config_id', e.config_id],
      ['connection_name', e.connection_name],
      ['connector', e.connector],
      ['connected_account_id', e.connected_account_id],
      ['agent_run_id', e.agent_run_id],
      ['error_code', e.error_code],
      ['error_message', e.error_message],
      ['duration_ms', e.duration_ms],
      ['started_at', e.started_at],
      ['finished_at', e.finished_at],
    ]);
  });

  withFilters(leaf(logs, 'tail', 'print new audit entries as they appear, oldest first, until Ctrl-C'), { until: false })
    .option('--interval <duration>', 'how often to look (default 2s)', '2s')
    .action(async (o: FilterOptions & { interval: string }, cmd: Command) => {
      const s = session(ctx, cmd);
      const intervalMs = parseDuration(o.interval, '--interval');
      if (intervalMs < 100) throw usageError('--interval: at least 100ms');
      const { start_time, ...filter } = toFilter(o, now());
      const vmcp = s.client();
      await tailLogs(vmcp, filter, {
        intervalMs,
        since: start_time,
        now,
        signal: s.io.signal,
        io: s.io,
        print: (e) => (s.json ? printJsonLine(s.io, e) : s.io.stdout.write(logLine(e))),
      });
    });
}

function duration(e: ToolCallLog): string | undefined {
  return e.duration_ms === null ? undefined : `${e.duration_ms}ms`;
}

/** One entry on one line, for `logs tail`. */
export function logLine(e: ToolCallLog): string {
  const cols = [e.started_at, e.status.padEnd(7), e.tool_name, e.identifier, cell(e.connection_name), cell(duration(e)), e.execution_id];
  if (e.error_code) cols.push(`${e.error_code}${e.error_message ? `: ${e.error_message}` : ''}`);
  return `${cols.join('  ')}\n`;
}

/** How far before the newest entry seen the next look starts: entries can reach the audit log a little late. */
export const TAIL_LOOKBACK_MS = 120_000;

export interface TailOptions {
  readonly intervalMs: number;
  /** Print entries from this time on first; without it only entries that appear after the start. */
  readonly since?: string;
  readonly now: () => number;
  readonly signal?: AbortSignal;
  readonly io: CliIo;
  readonly print: (entry: ToolCallLog) => void;
}

/**
 * Polls the newest-first listing from a moving start_time and prints each entry once,
 * oldest first. A call is printed when it has finished (unless --status STARTED): a
 * seen-set keyed by execution id keeps repeats out, and the window start follows the
 * newest entry (less a look-back for late arrivals) but never passes a call still running.
 */
export async function tailLogs(vmcp: Vmcp, filter: ToolCallLogFilter, o: TailOptions): Promise<void> {
  const wantStarted = filter.status === 'STARTED';
  const seen = new Map<string, number>();
  let lower = o.since ? Date.parse(o.since) : o.now() - TAIL_LOOKBACK_MS;
  let quiet = !o.since;
  while (!o.signal?.aborted) {
    let entries: ToolCallLog[];
    try {
      entries = await listAll(vmcp, { ...filter, start_time: new Date(lower).toISOString() }, o.signal);
    } catch (err) {
      if (o.signal?.aborted) break;
      if (!(err instanceof VmcpConnectionError || err instanceof VmcpTimeoutError)) throw err;
      o.io.stderr.write(`warning: ${err.message}; trying again\n`);
      await sleep(o.intervalMs, o.signal);
      continue;
    }
    const fresh = entries.filter((e) => !seen.has(e.execution_id) && (wantStarted || e.status !== 'STARTED'));
    for (const e of fresh) seen.set(e.execution_id, Date.parse(e.started_at));
    if (!quiet) {
      const oldestFirst = fresh.map((e, i) => ({ e, i })).sort((a, b) => Date.parse(a.e.started_at) - Date.parse(b.e.started_at) || b.i - a.i);
      for (const { e } of oldestFirst) o.print(e);
    }
    quiet = false;

    let newest = -Infinity;
    let running = Infinity;
    for (const e of entries) {
      const t = Date.parse(e.started_at);
      newest = Math.max(newest, t);
      if (e.status === 'STARTED' && !wantStarted) running = Math.min(running, t);
    }
    if (Number.isFinite(newest)) lower = Math.max(lower, Math.min(running, newest - TAIL_LOOKBACK_MS));
    for (const [id, t] of seen) if (t < lower) seen.delete(id);
    await sleep(o.intervalMs, o.signal);
  }
}

async function listAll(vmcp: Vmcp, filter: ToolCallLogFilter, signal?: AbortSignal): Promise<ToolCallLog[]> {
  const out: ToolCallLog[] = [];
  let page_token: string | undefined;
  do {
    const page = await vmcp.toolCallLogs.list({ ...filter, page_size: PAGE_MAX, ...(page_token ? { page_token } : {}) });
    out.push(...page.tool_call_logs);
    page_token = page.next_page_token;
  } while (page_token && !signal?.aborted);
  return out;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
