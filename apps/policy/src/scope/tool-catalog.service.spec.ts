import { executor, policy, VmcpError, type ConnectionTarget, type ToolDefinition } from '@vmcp/contracts';
import type { Bus } from '@vmcp/messaging';
import { metrics } from '@vmcp/telemetry';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CredentialGrantsService } from '../grants/credential-grants.service.js';
import type { RevocationsKv } from '../shared/revocations.kv.js';
import { ToolCatalogService } from './tool-catalog.service.js';

// The catalog's handling of failed discoveries, on fake timers (jitter pinned to none): the
// fail-fast window, the background retry's schedule and its end (success, giving up, a
// change event), its bounds, and the one change mark recoveries make.

const TOOLS: ToolDefinition[] = [{ name: 'echo', inputSchema: { type: 'object' } } as ToolDefinition];

function connection(n: number, url = 'http://127.0.0.1:9/mcp'): ConnectionTarget {
  return { id: `conn_${n}`, name: `up${n}`, connector: 'mcp', auth_type: 'bearer_token', settings: { url } } as ConnectionTarget;
}

/** Every catalog a test made, closed after it (timers, and its callback on the process's metrics). */
const created: ToolCatalogService[] = [];

/** `failAfterMs`: how long a failing discovery takes (0: it fails at once). */
function catalogWith(code: 'DEADLINE_EXCEEDED' | 'UNAVAILABLE' = 'DEADLINE_EXCEEDED', failAfterMs = 0) {
  const down = new Set<string>(['*']);
  const asked: Array<{ connection: string; account: string | null; url: unknown }> = [];
  const pending: Array<() => void> = [];
  let hold = false;
  const handlers = new Map<string, (e: Record<string, unknown>) => void>();
  const bus = {
    request: vi.fn(async (rpc: unknown, req: { connection: ConnectionTarget; account_id: string | null }) => {
      expect(rpc).toBe(executor.listConnectionTools);
      asked.push({ connection: req.connection.id, account: req.account_id, url: req.connection.settings['url'] });
      if (hold) await new Promise<void>((resolve) => pending.push(resolve));
      if (down.has('*') || down.has(req.connection.id)) {
        if (failAfterMs > 0) await new Promise((resolve) => setTimeout(resolve, failAfterMs));
        throw new VmcpError(code, 'no answer');
      }
      return { tools: TOOLS };
    }),
    subscribe: (event: { subject: string }, handler: (e: Record<string, unknown>) => void) => {
      handlers.set(event.subject, handler);
      return { unsubscribe: () => undefined };
    },
  } as unknown as Bus;
  const grants = { sign: async () => 'grant' } as unknown as CredentialGrantsService;
  const marks: string[] = [];
  const revocations = { touchTenant: async (t: string) => void marks.push(t) } as unknown as RevocationsKv;
  const catalog = new ToolCatalogService(bus, grants, revocations);
  catalog.onModuleInit();
  created.push(catalog);
  return {
    catalog,
    asked,
    marks,
    emit: (subject: string, e: Record<string, unknown>) => handlers.get(subject)!(e),
    setDown: (...ids: string[]) => {
      down.clear();
      for (const id of ids) down.add(id);
    },
    hold: () => (hold = true),
    release: () => {
      hold = false;
      for (const r of pending.splice(0)) r();
    },
  };
}

const fail = (p: Promise<unknown>) => p.then(() => 'ok', (err: { code?: string }) => err.code);

describe('ToolCatalogService: failed discoveries', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
  });
  afterEach(() => {
    for (const c of created.splice(0)) c.onModuleDestroy();
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('fails at once with the same error for 5 s after a slow failure, without asking the upstream', async () => {
    const { catalog, asked } = catalogWith('DEADLINE_EXCEEDED', 1500);
    const first = fail(catalog.tools('ten_a', connection(1), 'ca_1'));
    await vi.advanceTimersByTimeAsync(1500);
    expect(await first).toBe('DEADLINE_EXCEEDED');
    // Its background retry is due 1 s after the failure; until then only the failure answers.
    await vi.advanceTimersByTimeAsync(900);
    expect(await fail(catalog.tools('ten_a', connection(1), 'ca_1'))).toBe('DEADLINE_EXCEEDED');
    expect(asked).toHaveLength(1);
    // The retry asks (and fails slowly again), the lookups in its shadow still do not.
    await vi.advanceTimersByTimeAsync(100);
    expect(asked).toHaveLength(2);
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(1000);
      expect(await fail(catalog.tools('ten_a', connection(1), 'ca_1'))).toBe('DEADLINE_EXCEEDED');
    }
    expect(asked).toHaveLength(2);
  });

  it('asks again at once after a failure that came fast, a timeout code too (the next call works as soon as the cause is gone)', async () => {
    for (const code of ['UNAVAILABLE', 'DEADLINE_EXCEEDED'] as const) {
      const { catalog, asked } = catalogWith(code);
      expect(await fail(catalog.tools('ten_a', connection(1), 'ca_1'))).toBe(code);
      expect(await fail(catalog.tools('ten_a', connection(1), 'ca_1'))).toBe(code);
      expect(asked).toHaveLength(2);
    }
    const { catalog, setDown } = catalogWith('UNAVAILABLE');
    await fail(catalog.tools('ten_a', connection(1), 'ca_1'));
    setDown();
    expect(await catalog.tools('ten_a', connection(1), 'ca_1')).toEqual(TOOLS);
    expect(catalog.retryingCount()).toBe(0);
  });

  it('retries after 1 s, 2 s, 4 s …, and marks the tenant changed once when it works', async () => {
    const scrape = async () => {
      const text = await metrics().scrape();
      const sample = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
      return { failed: sample('vmcp_policy_tool_discovery_failures_total'), recovered: sample('vmcp_policy_tool_discovery_recoveries_total'), retrying: sample('vmcp_policy_tool_discovery_retrying') };
    };
    const before = await scrape();
    const { catalog, asked, marks, setDown } = catalogWith();
    await fail(catalog.tools('ten_a', connection(1), 'ca_1'));
    for (const [waitMs, total] of [[999, 1], [1, 2], [1999, 2], [1, 3], [4000, 4]] as const) {
      await vi.advanceTimersByTimeAsync(waitMs);
      expect(asked, `after ${waitMs} ms more`).toHaveLength(total);
    }
    expect(marks).toEqual([]);
    expect(await scrape()).toMatchObject({ failed: before.failed + 4, recovered: before.recovered, retrying: 1 });
    setDown();
    await vi.advanceTimersByTimeAsync(8000);
    expect(asked).toHaveLength(5);
    expect(marks).toEqual([]); // recoveries close together make one mark, 250 ms later
    await vi.advanceTimersByTimeAsync(250);
    expect(marks).toEqual(['ten_a']);
    expect(catalog.retryingCount()).toBe(0);
    expect(await scrape()).toMatchObject({ failed: before.failed + 4, recovered: before.recovered + 1, retrying: 0 });
    catalog.onModuleDestroy();
    expect(await catalog.tools('ten_a', connection(1), 'ca_1')).toEqual(TOOLS);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(asked).toHaveLength(5);
    expect(marks).toEqual(['ten_a']);
  });

  it('waits at most a minute between retries, and gives up half an hour after the first failure', async () => {
    const { catalog, asked } = catalogWith();
    await fail(catalog.tools('ten_a', connection(1), 'ca_1'));
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 8000 + 16_000 + 32_000);
    expect(asked).toHaveLength(7);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(asked).toHaveLength(7);
    await vi.advanceTimersByTimeAsync(1);
    expect(asked).toHaveLength(8);
    await vi.advanceTimersByTimeAsync(40 * 60_000);
    expect(catalog.retryingCount()).toBe(0);
    const atEnd = asked.length;
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(asked).toHaveLength(atEnd);
  });

  it('when one account works again, tries the connection’s other failed accounts at once, for one mark', async () => {
    const { catalog, asked, marks, setDown } = catalogWith();
    await fail(catalog.tools('ten_a', connection(1), 'ca_1'));
    await vi.advanceTimersByTimeAsync(500);
    for (const account of ['ca_2', 'ca_3']) await fail(catalog.tools('ten_a', connection(1), account));
    await fail(catalog.tools('ten_a', connection(2), 'ca_1'));
    // ca_1's retry is due at 1 s, the others' at 1.5 s. conn_1 comes back before 1 s.
    setDown('conn_2');
    asked.length = 0;
    await vi.advanceTimersByTimeAsync(510); // 1.01 s: well before the others' own retries
    expect(asked.map((a) => `${a.connection}/${a.account}`).sort()).toEqual(['conn_1/ca_1', 'conn_1/ca_2', 'conn_1/ca_3']);
    expect(catalog.retryingCount()).toBe(1); // conn_2 still failing
    expect(marks).toEqual([]);
    await vi.advanceTimersByTimeAsync(250);
    expect(marks).toEqual(['ten_a']);
  });

  it('stops retrying when the account or the connection changes, a discovery in flight included', async () => {
    const { catalog, asked, emit, hold, release } = catalogWith();
    await fail(catalog.tools('ten_a', connection(1), 'ca_1'));
    await fail(catalog.tools('ten_a', connection(2), 'ca_2'));
    expect(catalog.retryingCount()).toBe(2);
    emit(policy.accountChanged.subject, { account_id: 'ca_1' });
    emit(policy.connectionChanged.subject, { connection_id: 'conn_2' });
    expect(catalog.retryingCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(asked).toHaveLength(2);

    // A discovery still running when its connection changes (a new URL): its failure is
    // neither cached nor retried with the old settings.
    hold();
    const running = fail(catalog.tools('ten_a', connection(3, 'http://old.example/mcp'), 'ca_3'));
    await vi.advanceTimersByTimeAsync(0);
    emit(policy.connectionChanged.subject, { connection_id: 'conn_3' });
    release();
    expect(await running).toBe('DEADLINE_EXCEEDED');
    expect(catalog.retryingCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(asked.filter((a) => a.url === 'http://old.example/mcp')).toHaveLength(1);
  });

  it('retries at most 100 pairs of one tenant, so another tenant’s are still retried', async () => {
    const { catalog, asked } = catalogWith();
    await Promise.all(Array.from({ length: 105 }, (_, i) => fail(catalog.tools('ten_a', connection(i), `ca_${i}`))));
    await fail(catalog.tools('ten_b', connection(999), 'cb_1'));
    expect(catalog.retryingCount()).toBe(101);
    asked.length = 0;
    await vi.advanceTimersByTimeAsync(1000);
    expect(asked).toHaveLength(101);
    expect(asked.filter((a) => a.connection === 'conn_999')).toHaveLength(1);
  });

  it('schedules nothing once closed', async () => {
    const { catalog, asked } = catalogWith();
    catalog.onModuleDestroy();
    await fail(catalog.tools('ten_a', connection(1), 'ca_1'));
    expect(catalog.retryingCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(asked).toHaveLength(1);
  });
});
