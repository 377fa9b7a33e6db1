import { executor, policy, VmcpError, type ConnectionTarget, type ToolDefinition } from '@vmcp/contracts';
import type { Bus } from '@vmcp/messaging';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CredentialGrantsService } from '../grants/credential-grants.service.js';
import type { RevocationsKv } from '../shared/revocations.kv.js';
import { ToolCatalogService } from './tool-catalog.service.js';

// The catalog's background retry of failed discoveries, on fake timers: its schedule, its
// end (success, giving up, a change event), and its bound.

const TOOLS: ToolDefinition[] = [{ name: 'echo', inputSchema: { type: 'object' } } as ToolDefinition];

function connection(n: number): ConnectionTarget {
  return { id: `conn_${n}`, name: `up${n}`, connector: 'mcp', auth_type: 'bearer_token', settings: { url: 'http://127.0.0.1:9/mcp' } } as ConnectionTarget;
}

function catalogWith() {
  let failing = true;
  const asked: string[] = [];
  const handlers = new Map<string, (e: Record<string, unknown>) => void>();
  const bus = {
    request: vi.fn(async (rpc: unknown, req: { connection: ConnectionTarget }) => {
      expect(rpc).toBe(executor.listConnectionTools);
      asked.push(req.connection.id);
      if (failing) throw new VmcpError('DEADLINE_EXCEEDED', 'no answer');
      return { tools: TOOLS };
    }),
    subscribe: (event: { subject: string }, handler: (e: Record<string, unknown>) => void) => {
      handlers.set(event.subject, handler);
      return { unsubscribe: () => undefined };
    },
  } as unknown as Bus;
  const grants = { sign: async () => 'grant' } as unknown as CredentialGrantsService;
  const touched: string[] = [];
  const revocations = { touchTenant: async (t: string) => void touched.push(t) } as unknown as RevocationsKv;
  const catalog = new ToolCatalogService(bus, grants, revocations);
  catalog.onModuleInit();
  return {
    catalog,
    asked,
    touched,
    emit: (subject: string, e: Record<string, unknown>) => handlers.get(subject)!(e),
    recover: () => (failing = false),
  };
}

describe('ToolCatalogService background retry', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('retries a failed discovery after 1 s, 2 s, 4 s …, and marks the tenant changed once when it works', async () => {
    const { catalog, asked, touched, recover } = catalogWith();
    await expect(catalog.tools('ten_a', connection(1), 'ca_1')).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(asked).toHaveLength(1);
    for (const [waitMs, total] of [[999, 1], [1, 2], [1999, 2], [1, 3], [4000, 4]] as const) {
      await vi.advanceTimersByTimeAsync(waitMs);
      expect(asked, `after ${waitMs} ms more`).toHaveLength(total);
    }
    expect(touched).toEqual([]);
    recover();
    await vi.advanceTimersByTimeAsync(8000);
    expect(asked).toHaveLength(5);
    expect(touched).toEqual(['ten_a']);
    expect(catalog.retryingCount()).toBe(0);
    // The recovered catalog is cached: nothing more is asked, no more retries.
    expect(await catalog.tools('ten_a', connection(1), 'ca_1')).toEqual(TOOLS);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(asked).toHaveLength(5);
    expect(touched).toEqual(['ten_a']);
  });

  it('waits at most a minute between retries, and gives up after half an hour', async () => {
    const { catalog, asked } = catalogWith();
    await catalog.tools('ten_a', connection(1), 'ca_1').catch(() => undefined);
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 8000 + 16_000 + 32_000);
    expect(asked).toHaveLength(7);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(asked).toHaveLength(7);
    await vi.advanceTimersByTimeAsync(1);
    expect(asked).toHaveLength(8);
    await vi.advanceTimersByTimeAsync(40 * 60_000);
    const atEnd = asked.length;
    expect(catalog.retryingCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(asked).toHaveLength(atEnd);
  });

  it('stops retrying when the account or the connection changes (the next list discovers afresh)', async () => {
    const { catalog, asked, emit } = catalogWith();
    await catalog.tools('ten_a', connection(1), 'ca_1').catch(() => undefined);
    await catalog.tools('ten_a', connection(2), 'ca_2').catch(() => undefined);
    expect(catalog.retryingCount()).toBe(2);
    emit(policy.accountChanged.subject, { account_id: 'ca_1' });
    emit(policy.connectionChanged.subject, { connection_id: 'conn_2' });
    expect(catalog.retryingCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(asked).toHaveLength(2);
  });

  it('retries at most 1,000 pairs at once', async () => {
    const { catalog, asked } = catalogWith();
    await Promise.all(Array.from({ length: 1005 }, (_, i) => catalog.tools('ten_a', connection(i), `ca_${i}`).catch(() => undefined)));
    expect(catalog.retryingCount()).toBe(1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(asked).toHaveLength(1005 + 1000);
  });
});
