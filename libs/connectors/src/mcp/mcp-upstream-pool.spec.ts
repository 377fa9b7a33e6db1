import { newId, type ConnectionTarget, type StaticAuth } from '@vmcp/contracts';
import { startUpstreamMcpServer, type UpstreamMcpServer } from '@vmcp/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { McpUpstreamPool } from './mcp-upstream-pool.js';

// The mcp connector against a real SDK upstream server.

describe('McpUpstreamPool', () => {
  let upstream: UpstreamMcpServer;
  let pool: McpUpstreamPool;
  const tenant = newId('ten');
  const credentials = new Map<string, StaticAuth>();
  const resolved: string[] = [];
  let target: ConnectionTarget;

  beforeAll(async () => {
    upstream = await startUpstreamMcpServer({ requireAuth: (h) => h.authorization !== 'Bearer rejected' });
    target = { id: newId('conn'), name: 'up', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } };
  });

  const newPool = () =>
    new McpUpstreamPool({
      resolveCredential: async (_t, account) => {
        resolved.push(account);
        const c = credentials.get(account);
        if (!c) throw new Error('no credential');
        return c;
      },
    });

  afterEach(async () => {
    await pool?.closeAll();
  });
  afterAll(async () => {
    await upstream?.close();
  });

  it('opens one session per account, reuses it, and sends each account its own credential', async () => {
    pool = newPool();
    const alice = newId('ca');
    const bob = newId('ca');
    credentials.set(alice, { token: 'alice-token' });
    credentials.set(bob, { token: 'bob-token' });
    const before = upstream.initializeCount();
    const results = await Promise.all([
      pool.callTool(tenant, target, alice, 'whoami', {}, 5000),
      pool.callTool(tenant, target, alice, 'whoami', {}, 5000),
      pool.callTool(tenant, target, bob, 'whoami', {}, 5000),
    ]);
    const text = (r: { content: Array<{ text?: string }> }) => r.content.map((c) => c.text).join('');
    expect(text(results[0]!)).toContain('Bearer alice-token');
    expect(text(results[1]!)).toContain('Bearer alice-token');
    expect(text(results[2]!)).toContain('Bearer bob-token');
    await pool.callTool(tenant, target, alice, 'echo', { text: 'again' }, 5000);
    expect(upstream.initializeCount() - before).toBe(2);
    expect(resolved.filter((a) => a === alice)).toHaveLength(1);
    expect(pool.size).toBe(2);

    // A changed account is dropped at once and reopened with the new credential.
    credentials.set(alice, { token: 'alice-rotated' });
    pool.evictAccount(alice);
    expect(pool.size).toBe(1);
    expect(text(await pool.callTool(tenant, target, alice, 'whoami', {}, 5000))).toContain('Bearer alice-rotated');
  });

  it('passes results through unchanged and lists tools with their schemas', async () => {
    pool = newPool();
    const account = newId('ca');
    credentials.set(account, { token: 't' });
    const tools = await pool.listTools(tenant, target, account);
    expect(tools.map((t) => t.name).sort()).toEqual(['add', 'echo', 'fail', 'image', 'slow', 'whoami']);
    expect(tools.find((t) => t.name === 'add')).toMatchObject({ outputSchema: { type: 'object' }, inputSchema: { required: ['a', 'b'] } });
    expect(await pool.callTool(tenant, target, account, 'add', { a: 1, b: 2 }, 5000)).toEqual({
      content: [{ type: 'text', text: '3' }],
      structuredContent: { sum: 3 },
    });
    expect(await pool.callTool(tenant, target, account, 'fail', {}, 5000)).toMatchObject({ isError: true });
    expect((await pool.callTool(tenant, target, account, 'image', {}, 5000)).content[0]).toMatchObject({ type: 'image', mimeType: 'image/png' });
  });

  it('maps timeouts, refused credentials and unreachable upstreams to stable codes', async () => {
    pool = newPool();
    const account = newId('ca');
    credentials.set(account, { token: 't' });
    await expect(pool.callTool(tenant, target, account, 'slow', { ms: 2000 }, 200)).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    // The SDK server answers an unknown tool with an isError result: passed through as is.
    expect(await pool.callTool(tenant, target, account, 'no_such_tool', {}, 5000)).toMatchObject({ isError: true });

    const rejected = newId('ca');
    credentials.set(rejected, { token: 'rejected' });
    const refused = await pool.callTool(tenant, target, rejected, 'echo', { text: 'x' }, 5000).catch((e: Error) => e);
    expect(refused).toMatchObject({ code: 'UPSTREAM_ERROR', message: expect.stringContaining('401') });
    expect(String((refused as Error).message)).not.toContain('rejected');

    const down: ConnectionTarget = { ...target, id: newId('conn'), settings: { url: 'http://127.0.0.1:9/mcp' } };
    const started = Date.now();
    await expect(pool.callTool(tenant, down, account, 'echo', { text: 'x' }, 5000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('fails clearly when the credential cannot be resolved, and keeps nothing', async () => {
    pool = newPool();
    await expect(pool.callTool(tenant, target, newId('ca'), 'echo', { text: 'x' }, 5000)).rejects.toThrow();
    expect(pool.size).toBe(0);
  });
});
