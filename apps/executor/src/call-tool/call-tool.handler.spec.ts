import { Writable } from 'node:stream';
import { executor, newId, VmcpError, type CallToolResult, type ConnectionTarget } from '@vmcp/contracts';
import type { CallToolOptions, Connector, ConnectorContext } from '@vmcp/connectors';
import { createLogger } from '@vmcp/telemetry';
import { describe, expect, it } from 'vitest';
import type { Bus } from '@vmcp/messaging';
import type { ConnectorRegistry } from '../connectors/connector-registry.service.js';
import { CallToolHandler, MAX_LOGS_PER_CALL } from './call-tool.handler.js';

const connection: ConnectionTarget = { id: newId('conn'), name: 'crm', connector: 'mcp', auth_type: 'bearer_token', settings: { url: 'http://127.0.0.1:1/mcp' } };

const RICH: CallToolResult = {
  content: [
    { type: 'text', text: 'hi', annotations: { audience: ['user'] } },
    { type: 'image', data: 'AAAA', mimeType: 'image/png' },
    { type: 'audio', data: 'BBBB', mimeType: 'audio/wav' },
    { type: 'resource_link', uri: 'file:///a.txt', name: 'a.txt' },
    { type: 'resource', resource: { uri: 'mem://1', blob: 'AAEC' } },
    { type: 'some_future_block', payload: { x: 1 } },
  ],
  structuredContent: { n: 1 },
  isError: false,
  _meta: { 'example.com/k': 'v' },
  unknown_top_level: true,
};

/** A bus that records what is published and lets the test deliver events. */
function fakeBus() {
  const published: Array<{ subject: string; payload: unknown; token?: string }> = [];
  const listeners = new Map<string, (payload: unknown) => void>();
  let flushes = 0;
  const bus = {
    publish: (event: { subject: string }, payload: unknown, options: { token?: string } = {}) => void published.push({ subject: event.subject, payload, ...options }),
    subscribe: (event: { subject: string }, handler: (payload: unknown) => void) => {
      listeners.set(event.subject, handler);
      return { unsubscribe: () => listeners.delete(event.subject) };
    },
    flush: async () => void flushes++,
  };
  return { bus: bus as unknown as Bus, published, deliver: (subject: string, payload: unknown) => listeners.get(subject)?.(payload), flushes: () => flushes };
}

function setup(callTool: Connector['callTool']) {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
  const registry = { for: () => ({ callTool }) } as unknown as ConnectorRegistry;
  const bus = fakeBus();
  const handler = new CallToolHandler(registry, createLogger('executor', 'info', sink), bus.bus);
  handler.onModuleInit();
  return { handler, lines, bus };
}

const request = (over: Partial<Parameters<CallToolHandler['handle']>[0]> = {}): Parameters<CallToolHandler['handle']>[0] => ({
  tenant_id: newId('ten'),
  execution_id: newId('exe'),
  connection,
  account_id: newId('ca'),
  tool_name: 'lookup',
  arguments: { query: 'private-argument' },
  timeout_ms: 1500,
  ...over,
}) as Parameters<CallToolHandler['handle']>[0];

describe('CallToolHandler', () => {
  it('runs the call with the account and timeout of the request and returns the result untouched', async () => {
    const seen: Array<[ConnectorContext, string, Record<string, unknown>, CallToolOptions]> = [];
    const { handler } = setup(async (ctx, name, args, options) => (seen.push([ctx, name, args, options]), RICH));
    const req = request();
    const reply = await handler.handle(req);
    expect(reply.result).toBe(RICH);
    expect(seen).toEqual([[{ tenantId: req.tenant_id, connection, accountId: req.account_id, grant: req.grant }, 'lookup', { query: 'private-argument' }, { timeoutMs: 1500, signal: expect.any(AbortSignal) }]]);
    // No progress asked: none is requested from the connector.
    expect(seen[0]![3].onProgress).toBeUndefined();
    expect(seen[0]![3].onLog).toBeUndefined();
    // What goes back on the bus keeps every field, known or not.
    expect(executor.callTool.reply.parse(reply)).toEqual({ result: RICH });
  });

  it('logs a failure with ids and code only, and passes the error on', async () => {
    const { handler, lines } = setup(() => Promise.reject(new VmcpError('DEADLINE_EXCEEDED', 'upstream of connection "crm" did not answer in time')));
    const req = request();
    await expect(handler.handle(req)).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    const logged = JSON.parse(lines.join('')) as Record<string, unknown>;
    expect(logged).toMatchObject({ level: 'warn', execution_id: req.execution_id, connection_id: connection.id, tool_name: 'lookup', code: 'DEADLINE_EXCEEDED' });
    expect(lines.join('')).not.toContain('private-argument');
  });

  it('publishes progress under the execution id when asked, and flushes it before the reply', async () => {
    const { handler, bus } = setup(async (_ctx, _name, _args, options) => {
      options.onProgress?.({ progress: 1, total: 2, message: 'half' });
      options.onProgress?.({ progress: 2, total: 2 });
      return RICH;
    });
    const req = request({ progress: true });
    await handler.handle(req);
    expect(bus.published).toEqual([
      { subject: executor.callProgress.subject, token: req.execution_id, payload: { execution_id: req.execution_id, progress: 1, total: 2, message: 'half' } },
      { subject: executor.callProgress.subject, token: req.execution_id, payload: { execution_id: req.execution_id, progress: 2, total: 2 } },
    ]);
    expect(bus.flushes()).toBe(1);
  });

  it('publishes log messages at or above the asked level under the execution id, before the reply', async () => {
    const { handler, bus } = setup(async (_ctx, _name, _args, options) => {
      options.onLog?.({ level: 'debug', data: 'too chatty' });
      options.onLog?.({ level: 'info', logger: 'db', data: { rows: 3 } });
      options.onLog?.({ level: 'error', data: 'failed once' });
      return RICH;
    });
    const req = request({ logs: 'info' });
    await handler.handle(req);
    expect(bus.published).toEqual([
      { subject: executor.callLog.subject, token: req.execution_id, payload: { execution_id: req.execution_id, level: 'info', logger: 'db', data: { rows: 3 } } },
      { subject: executor.callLog.subject, token: req.execution_id, payload: { execution_id: req.execution_id, level: 'error', data: 'failed once' } },
    ]);
    expect(bus.flushes()).toBe(1);
  });

  it('passes on at most MAX_LOGS_PER_CALL log messages of a call, then says how many were left out', async () => {
    const late: Array<() => void> = [];
    const { handler, bus } = setup(async (_ctx, _name, _args, options) => {
      for (let i = 0; i < MAX_LOGS_PER_CALL + 5; i++) options.onLog?.({ level: 'info', data: `line ${i}` });
      late.push(() => options.onLog?.({ level: 'info', data: 'after the call' }));
      return RICH;
    });
    const req = request({ logs: 'debug' });
    await handler.handle(req);
    late.forEach((f) => f());
    const logs = bus.published.map((p) => p.payload as { data: unknown; level: string; logger?: string });
    expect(logs).toHaveLength(MAX_LOGS_PER_CALL + 1);
    expect(logs[MAX_LOGS_PER_CALL - 1]!.data).toBe(`line ${MAX_LOGS_PER_CALL - 1}`);
    expect(logs[MAX_LOGS_PER_CALL]).toMatchObject({ level: 'warning', logger: 'vmcp', data: expect.stringContaining('5 more log message(s)') });
  });

  it('aborts the running call named by a cancellation, and a call whose cancellation came first', async () => {
    const signals: AbortSignal[] = [];
    const { handler, bus } = setup(
      (_ctx, _name, _args, options) =>
        new Promise((_resolve, reject) => {
          signals.push(options.signal!);
          if (options.signal!.aborted) reject(new VmcpError('CANCELLED', 'cancelled'));
          options.signal!.addEventListener('abort', () => reject(new VmcpError('CANCELLED', 'cancelled')));
        }),
    );
    const running = request();
    const other = request();
    const call = handler.handle(running);
    const otherCall = handler.handle(other);
    otherCall.catch(() => undefined);
    bus.deliver(executor.cancelCall.subject, { execution_id: running.execution_id });
    await expect(call).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(signals[1]!.aborted).toBe(false);

    const early = request();
    bus.deliver(executor.cancelCall.subject, { execution_id: early.execution_id });
    await expect(handler.handle(early)).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
