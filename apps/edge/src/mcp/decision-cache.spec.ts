import type { VmcpConfig } from '@vmcp/config';
import type { ScopedTool } from '@vmcp/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChangeListener, RevocationsService } from '../auth/revocations.service.js';
import { DecisionCache, type AllowDecision } from './decision-cache.js';

function grantExpiringIn(seconds: number): string {
  const payload = Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + seconds })).toString('base64url');
  return `eyJhbGciOiJFZERTQSJ9.${payload}.c2lnbmF0dXJl`;
}

function allow(grant = grantExpiringIn(120)): AllowDecision {
  return {
    decision: 'allow',
    context: { config_id: 'cfg_1', connection_name: 'up', connector: 'mcp', connected_account_id: 'ca_1' },
    connection: { id: 'conn_1', connector: 'mcp', auth_type: 'bearer_token', settings: {} } as unknown as AllowDecision['connection'],
    connected_account_id: 'ca_1',
    upstream_tool_name: 'echo',
    grant,
    input_schema: { type: 'object' },
  };
}

const TOOLS: ScopedTool[] = [{ name: 'echo', connection_name: 'up', connector: 'mcp', definition: { name: 'echo', inputSchema: { type: 'object' } } as ScopedTool['definition'] }];

function cacheWith(ttlMs = 30_000) {
  let listener: ChangeListener | undefined;
  const revocations = { onChange: (l: ChangeListener) => (listener = l) } as unknown as RevocationsService;
  const cache = new DecisionCache({ edgeCacheTtlMs: ttlMs } as VmcpConfig, revocations);
  return { cache, marks: () => listener! };
}

describe('DecisionCache', () => {
  afterEach(() => vi.useRealTimers());

  it('keeps allow decisions and tool lists per tenant, config, user and tool', () => {
    const { cache } = cacheWith();
    const g = cache.generation('ten_a');
    cache.rememberDecision('ten_a', 'cfg_1', 'alice', 'echo', g, allow());
    cache.rememberScopedTools('ten_a', 'cfg_1', 'alice', g, TOOLS);
    expect(cache.decision('ten_a', 'cfg_1', 'alice', 'echo')?.decision).toBe('allow');
    expect(cache.scopedTools('ten_a', 'cfg_1', 'alice')).toEqual(TOOLS);
    for (const [t, c, u, n] of [['ten_b', 'cfg_1', 'alice', 'echo'], ['ten_a', 'cfg_2', 'alice', 'echo'], ['ten_a', 'cfg_1', 'bob', 'echo'], ['ten_a', 'cfg_1', 'alice', 'add']]) {
      expect(cache.decision(t!, c!, u!, n!)).toBeUndefined();
    }
    expect(cache.scopedTools('ten_a', 'cfg_1', 'bob')).toBeUndefined();
  });

  it("drops a tenant's entries on its change mark, and only that tenant's", () => {
    const { cache, marks } = cacheWith();
    for (const t of ['ten_a', 'ten_b']) {
      cache.rememberDecision(t, 'cfg_1', 'alice', 'echo', cache.generation(t), allow());
      cache.rememberScopedTools(t, 'cfg_1', 'alice', cache.generation(t), TOOLS);
    }
    marks().tenantChanged('ten_a');
    expect(cache.decision('ten_a', 'cfg_1', 'alice', 'echo')).toBeUndefined();
    expect(cache.scopedTools('ten_a', 'cfg_1', 'alice')).toBeUndefined();
    expect(cache.decision('ten_b', 'cfg_1', 'alice', 'echo')).toBeDefined();
    expect(cache.scopedTools('ten_b', 'cfg_1', 'alice')).toBeDefined();
  });

  it('does not store an answer that was asked for before a change and arrives after its mark', () => {
    const { cache, marks } = cacheWith();
    const askedAt = cache.generation('ten_a');
    marks().tenantChanged('ten_a');
    cache.rememberDecision('ten_a', 'cfg_1', 'alice', 'echo', askedAt, allow());
    cache.rememberScopedTools('ten_a', 'cfg_1', 'alice', askedAt, TOOLS);
    expect(cache.decision('ten_a', 'cfg_1', 'alice', 'echo')).toBeUndefined();
    expect(cache.scopedTools('ten_a', 'cfg_1', 'alice')).toBeUndefined();
  });

  it('forgets everything, in-flight answers included, when the watch restarts', () => {
    const { cache, marks } = cacheWith();
    const askedAt = cache.generation('ten_a');
    cache.rememberDecision('ten_a', 'cfg_1', 'alice', 'echo', askedAt, allow());
    marks().reset();
    expect(cache.decision('ten_a', 'cfg_1', 'alice', 'echo')).toBeUndefined();
    cache.rememberDecision('ten_a', 'cfg_1', 'alice', 'echo', askedAt, allow());
    expect(cache.decision('ten_a', 'cfg_1', 'alice', 'echo')).toBeUndefined();
  });

  it('expires entries after the lifetime, and a decision 30 s before its grant does', () => {
    vi.useFakeTimers();
    const { cache } = cacheWith(60_000);
    cache.rememberDecision('ten_a', 'cfg_1', 'alice', 'echo', cache.generation('ten_a'), allow(grantExpiringIn(40)));
    cache.rememberScopedTools('ten_a', 'cfg_1', 'alice', cache.generation('ten_a'), TOOLS);
    expect(cache.decision('ten_a', 'cfg_1', 'alice', 'echo')).toBeDefined();
    vi.advanceTimersByTime(11_000);
    expect(cache.decision('ten_a', 'cfg_1', 'alice', 'echo')).toBeUndefined();
    expect(cache.scopedTools('ten_a', 'cfg_1', 'alice')).toBeDefined();
    vi.advanceTimersByTime(50_000);
    expect(cache.scopedTools('ten_a', 'cfg_1', 'alice')).toBeUndefined();
  });

  it('keeps nothing it cannot check or use: no input schema, an unreadable or nearly expired grant', () => {
    const { cache } = cacheWith();
    cache.rememberDecision('ten_a', 'cfg_1', 'alice', 'a', cache.generation('ten_a'), { ...allow(), input_schema: undefined });
    cache.rememberDecision('ten_a', 'cfg_1', 'alice', 'b', cache.generation('ten_a'), allow('not-a-jwt-at-all-really'));
    cache.rememberDecision('ten_a', 'cfg_1', 'alice', 'c', cache.generation('ten_a'), allow(grantExpiringIn(20)));
    for (const n of ['a', 'b', 'c']) expect(cache.decision('ten_a', 'cfg_1', 'alice', n)).toBeUndefined();
  });

  it('is off with a lifetime of 0', () => {
    const { cache } = cacheWith(0);
    cache.rememberDecision('ten_a', 'cfg_1', 'alice', 'echo', cache.generation('ten_a'), allow());
    cache.rememberScopedTools('ten_a', 'cfg_1', 'alice', cache.generation('ten_a'), TOOLS);
    expect(cache.decision('ten_a', 'cfg_1', 'alice', 'echo')).toBeUndefined();
    expect(cache.scopedTools('ten_a', 'cfg_1', 'alice')).toBeUndefined();
  });
});
