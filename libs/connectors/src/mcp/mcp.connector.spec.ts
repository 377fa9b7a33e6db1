import { newId, VmcpError, type AuthType, type ConnectionTarget } from '@vmcp/contracts';
import { freePort, waitFor } from '@vmcp/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorContext, ResolvedCredential } from '../connector.js';
import { McpConnector, type McpConnectorOptions } from './mcp.connector.js';
import { RAW_RESULT, RICH_RESULT, startTestUpstream, type TestUpstream } from './test-upstream.fixture.js';

// The mcp connector against a real SDK upstream: credentials per account, session reuse,
// results unchanged, tool discovery, eviction, and every failure as a stable code.

// What fetch and the transport put on every request; anything beyond these and the
// credential headers would be a leak.
const TRANSPORT_HEADERS = new Set([
  'host',
  'connection',
  'content-type',
  'content-length',
  'accept',
  'accept-language',
  'accept-encoding',
  'sec-fetch-mode',
  'user-agent',
  'mcp-session-id',
  'mcp-protocol-version',
  'last-event-id',
]);

const tenant = newId('ten');

describe('McpConnector', () => {
  let upstream: TestUpstream;
  let connector: McpConnector;
  const credentials = new Map<string, ResolvedCredential>();
  const resolved: string[] = [];
  /** What the vault hands out once a token was refused (an OAuth refresh), per account. */
  const refreshed = new Map<string, ResolvedCredential>();
  const rejections: Array<{ accountId: string; rejectedToken: string }> = [];
  const changes: Array<{ tenantId: string; connectionId: string; accountId: string | null }> = [];

  const target = (auth_type: AuthType, over: Partial<ConnectionTarget['settings']> = {}, url = upstream.url): ConnectionTarget => ({
    id: newId('conn'),
    name: `up-${auth_type.replace('_', '-')}`,
    connector: 'mcp',
    auth_type,
    settings: { url, ...over },
  });
  const account = (auth_type: AuthType, secret: ResolvedCredential['secret']) => {
    const id = newId('ca');
    credentials.set(id, { auth_type, secret });
    return id;
  };
  const ctx = (connection: ConnectionTarget, accountId: string | null): ConnectorContext => ({
    tenantId: tenant,
    connection,
    accountId,
    grant: accountId ? `grant-for-${accountId}` : null,
  });
  const make = (options: McpConnectorOptions = {}) => {
    connector = new McpConnector(
      {
        resolveCredential: async ({ tenantId: t, accountId: a, grant, rejectedToken }) => {
          expect(t).toBe(tenant);
          // The connector carries the grant it was given to the vault, unchanged.
          expect(grant).toBe(`grant-for-${a}`);
          resolved.push(a);
          if (rejectedToken) {
            rejections.push({ accountId: a, rejectedToken });
            const fresh = refreshed.get(a);
            if (fresh) return fresh;
          }
          const c = credentials.get(a);
          if (!c) throw new VmcpError('NOT_FOUND', 'no credential for this account');
          return c;
        },
        onToolsChanged: (c) => changes.push(c),
      },
      options,
    );
    return connector;
  };
  const call = (c: ConnectorContext, name: string, args: Record<string, unknown> = {}, timeoutMs = 5000) => connector.callTool(c, name, args, { timeoutMs });
  const failure = (p: Promise<unknown>) => p.then(() => expect.fail('expected a failure'), (e: unknown) => e as VmcpError);

  beforeAll(async () => {
    upstream = await startTestUpstream({ refuse: (h) => h.authorization === 'Bearer refused-token-123' });
  });
  afterEach(async () => {
    await connector?.close();
  });
  afterAll(async () => {
    await upstream?.close();
  });

  it('sends each account its own credential, where its auth type says, and no other header', async () => {
    make();
    const bearer = target('bearer_token');
    const alice = account('bearer_token', { token: 'alice-token-1' });
    const bob = account('bearer_token', { token: 'bob-token-2' });
    const cases: Array<[ConnectionTarget, string | null, Record<string, string>]> = [
      [bearer, alice, { authorization: 'Bearer alice-token-1' }],
      [bearer, bob, { authorization: 'Bearer bob-token-2' }],
      [target('api_key'), account('api_key', { api_key: 'key-of-carol' }), { 'x-api-key': 'key-of-carol' }],
      [target('api_key', { header_name: 'X-Token' }), account('api_key', { api_key: 'key-of-dave' }), { 'x-token': 'key-of-dave' }],
      [target('basic'), account('basic', { username: 'erin', password: 'pa:ss wörd' }), { authorization: `Basic ${Buffer.from('erin:pa:ss wörd').toString('base64')}` }],
      [target('custom_headers'), account('custom_headers', { headers: { 'X-Tenant': 'acme', 'X-Secret': 'custom-secret' } }), { 'x-tenant': 'acme', 'x-secret': 'custom-secret' }],
      [target('none'), null, {}],
    ];
    for (const [connection, accountId, expected] of cases) {
      const before = upstream.requests.length;
      const asked = resolved.length;
      await call(ctx(connection, accountId), 'echo', { text: 'hi' });
      const seen = upstream.requests.slice(before);
      // initialize, notifications/initialized, the listening GET (maybe) and the call: all carry it.
      expect(seen.filter((r) => r.rpcMethod === 'tools/call')).toHaveLength(1);
      for (const r of seen) {
        expect(r.headers).toMatchObject(expected);
        const extra = Object.keys(r.headers).filter((h) => !TRANSPORT_HEADERS.has(h) && !(h in expected));
        expect(extra).toEqual([]);
      }
      // The vault is asked once per account, and never for auth `none`.
      expect(resolved.slice(asked)).toEqual(accountId ? [accountId] : []);
    }
  });

  it('opens one upstream session per account on first use, even under concurrency, and reuses it', async () => {
    make();
    const connection = target('bearer_token');
    const alice = account('bearer_token', { token: 'alice-token-1' });
    const bob = account('bearer_token', { token: 'bob-token-2' });
    const before = upstream.initializeCount();
    const results = await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => call(ctx(connection, alice), 'echo', { text: `a${i}` })),
      ...Array.from({ length: 5 }, (_, i) => call(ctx(connection, bob), 'echo', { text: `b${i}` })),
    ]);
    expect(results.map((r) => r.content[0]?.text)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2', 'b3', 'b4']);
    await connector.listTools(ctx(connection, alice));
    await call(ctx(connection, bob), 'add', { a: 1, b: 2 });
    expect(upstream.initializeCount() - before).toBe(2);
    expect(resolved.filter((a) => a === alice)).toHaveLength(1);
    expect(resolved.filter((a) => a === bob)).toHaveLength(1);
    expect(connector.sessions).toBe(2);
    const byAccount = upstream.calls.slice(-11).filter((c) => c.tool === 'echo');
    expect(byAccount.filter((c) => c.headers.authorization === 'Bearer alice-token-1').map((c) => c.args.text)).toHaveLength(5);
    expect(byAccount.filter((c) => c.headers.authorization === 'Bearer bob-token-2').map((c) => c.args.text)).toHaveLength(5);
  });

  it('passes every kind of result through unchanged', async () => {
    make();
    const c = ctx(target('none'), null);
    expect(await call(c, 'rich')).toEqual(RICH_RESULT);
    expect(await call(c, 'raw')).toEqual(RAW_RESULT);
    expect(await call(c, 'add', { a: 2, b: 3 })).toEqual({ content: [{ type: 'text', text: '5' }], structuredContent: { sum: 5 } });
    expect(await call(c, 'fail')).toEqual({ content: [{ type: 'text', text: 'upstream says no' }], isError: true });
    expect((await call(c, 'image')).content[0]).toMatchObject({ type: 'image', mimeType: 'image/png' });
    // After listTools too (the SDK client would otherwise start checking results against output schemas).
    await connector.listTools(c);
    expect(await call(c, 'rich')).toEqual(RICH_RESULT);
  });

  it('answers an unknown tool with the upstream error, as UPSTREAM_ERROR', async () => {
    make();
    const err = await failure(call(ctx(target('none'), null), 'no_such_tool'));
    expect(err).toMatchObject({ code: 'UPSTREAM_ERROR', message: expect.stringContaining('Unknown tool: no_such_tool') });
  });

  it('lists every page of tools once, keeps them, and refreshes and announces them when the upstream says they changed', async () => {
    const paged = await startTestUpstream({ pageSize: 2 });
    try {
      make();
      const connection = target('bearer_token', {}, paged.url);
      const alice = account('bearer_token', { token: 'alice-token-1' });
      const tools = await connector.listTools(ctx(connection, alice));
      expect(tools.map((t) => t.name)).toEqual(['echo', 'add', 'image', 'rich', 'raw', 'fail', 'slow', 'progress', 'leak', 'grow']);
      expect(tools.find((t) => t.name === 'add')).toMatchObject({ outputSchema: { type: 'object', required: ['sum'] }, inputSchema: { required: ['a', 'b'] } });
      expect(tools.find((t) => t.name === 'rich')).toMatchObject({ title: 'Rich', _meta: { 'example.com/tier': 'gold' } });
      expect(paged.listCount()).toBe(5);
      await Promise.all([connector.listTools(ctx(connection, alice)), connector.listTools(ctx(connection, alice))]);
      expect(paged.listCount()).toBe(5);

      await call(ctx(connection, alice), 'grow');
      expect(changes.at(-1)).toEqual({ tenantId: tenant, connectionId: connection.id, accountId: alice });
      expect((await connector.listTools(ctx(connection, alice))).map((t) => t.name)).toContain('grown');
      expect(paged.listCount()).toBe(11);
    } finally {
      await connector.close();
      await paged.close();
    }
  });

  it('drops an account or connection at once, lets running calls finish, and reopens with the current credential', async () => {
    make();
    const connection = target('bearer_token');
    const alice = account('bearer_token', { token: 'alice-token-1' });
    const bob = account('bearer_token', { token: 'bob-token-2' });
    await call(ctx(connection, alice), 'echo', { text: 'x' });
    await call(ctx(connection, bob), 'echo', { text: 'x' });
    const sessionsBefore = upstream.openSessions();

    const running = call(ctx(connection, alice), 'slow', { ms: 300 });
    await waitFor(() => upstream.calls.at(-1)?.tool === 'slow');
    credentials.set(alice, { auth_type: 'bearer_token', secret: { token: 'alice-rotated-3' } });
    connector.forget({ accountId: alice });
    expect(connector.sessions).toBe(1);
    await expect(running).resolves.toMatchObject({ content: [{ text: 'waited 300' }] });
    // Once the running call is done, the old session is ended upstream too.
    await waitFor(() => upstream.openSessions() === sessionsBefore - 1, { what: 'the old session to be deleted' });

    await call(ctx(connection, alice), 'echo', { text: 'again' });
    expect(upstream.calls.at(-1)?.headers.authorization).toBe('Bearer alice-rotated-3');
    expect(resolved.filter((a) => a === alice)).toHaveLength(2);

    connector.forget({ connectionId: connection.id });
    expect(connector.sessions).toBe(0);
  });

  it('closes idle sessions and keeps to the size cap, least recently used first', async () => {
    make({ maxSessions: 2 });
    const connection = target('bearer_token');
    const [a, b, c] = [1, 2, 3].map((i) => account('bearer_token', { token: `cap-token-${i}` }));
    await call(ctx(connection, a!), 'echo', { text: 'a' });
    await call(ctx(connection, b!), 'echo', { text: 'b' });
    await call(ctx(connection, a!), 'echo', { text: 'a' });
    const opened = upstream.initializeCount();
    await call(ctx(connection, c!), 'echo', { text: 'c' });
    expect(connector.sessions).toBe(2);
    await call(ctx(connection, a!), 'echo', { text: 'a' });
    expect(upstream.initializeCount()).toBe(opened + 1);
    await call(ctx(connection, b!), 'echo', { text: 'b' });
    expect(upstream.initializeCount()).toBe(opened + 2);
    await connector.close();

    make({ idleMs: 50 });
    await call(ctx(connection, a!), 'echo', { text: 'a' });
    expect(connector.sessions).toBe(1);
    await waitFor(() => connector.sessions === 0, { what: 'the idle session to close' });
  });

  it('stops a slow call at its timeout with DEADLINE_EXCEEDED, cancels it upstream, and keeps the session', async () => {
    make();
    const c = ctx(target('bearer_token'), account('bearer_token', { token: 'slow-token-1' }));
    await call(c, 'echo', { text: 'warm' });
    const opened = upstream.initializeCount();
    const started = Date.now();
    const err = await failure(call(c, 'slow', { ms: 10_000 }, 200));
    expect(err).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(Date.now() - started).toBeLessThan(2000);
    await waitFor(() => upstream.cancelled.includes('slow'), { what: 'the upstream to see the cancellation' });
    await expect(call(c, 'echo', { text: 'after' })).resolves.toMatchObject({ content: [{ text: 'after' }] });
    expect(upstream.initializeCount()).toBe(opened);

    const controller = new AbortController();
    const cancelled = connector.callTool(c, 'slow', { ms: 10_000 }, { timeoutMs: 5000, signal: controller.signal });
    await waitFor(() => upstream.calls.at(-1)?.tool === 'slow' && upstream.calls.length);
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ code: 'CANCELLED', message: expect.stringContaining('cancelled') });
  });

  it("passes the upstream's progress on, in order, with credentials kept out of the message", async () => {
    make();
    const c = ctx(target('bearer_token'), account('bearer_token', { token: 'progress-token-9' }));
    const seen: unknown[] = [];
    const result = await connector.callTool(c, 'progress', { steps: 2, message: 'using progress-token-9' }, { timeoutMs: 5000, onProgress: (p) => seen.push(p) });
    expect(result).toMatchObject({ content: [{ text: 'done in 2' }] });
    expect(seen).toEqual([
      { progress: 1, total: 2, message: 'using [redacted]' },
      { progress: 2, total: 2, message: 'using [redacted]' },
    ]);
    // Without onProgress no progressToken goes upstream, so none comes back.
    await call(c, 'progress', { steps: 2 });
  });

  it('reports an upstream that is not there as UNAVAILABLE, promptly, naming only the connection', async () => {
    make();
    const down = target('bearer_token', {}, `http://127.0.0.1:${await freePort()}/mcp`);
    const c = ctx(down, account('bearer_token', { token: 'down-token-1' }));
    const started = Date.now();
    const err = await failure(call(c, 'echo', { text: 'x' }));
    expect(err).toMatchObject({ code: 'UNAVAILABLE', message: `upstream of connection "${down.name}" is unavailable` });
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(connector.listTools(c)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(connector.sessions).toBe(0);
  });

  it('reports an upstream that went away under a pooled session as UNAVAILABLE and drops the session', async () => {
    const doomed = await startTestUpstream();
    make();
    const c = ctx(target('none', {}, doomed.url), null);
    await call(c, 'echo', { text: 'x' });
    await doomed.close();
    await expect(call(c, 'echo', { text: 'x' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(connector.sessions).toBe(0);
  });

  it('reconnects once when the upstream forgot the session, without running the call twice', async () => {
    make();
    const c = ctx(target('bearer_token'), account('bearer_token', { token: 'forgot-token-1' }));
    await call(c, 'echo', { text: 'first' });
    await upstream.forgetSessions();
    const opened = upstream.initializeCount();
    const calls = upstream.calls.length;
    await expect(call(c, 'echo', { text: 'second' })).resolves.toMatchObject({ content: [{ text: 'second' }] });
    expect(upstream.initializeCount()).toBe(opened + 1);
    expect(upstream.calls.length).toBe(calls + 1);

    await upstream.forgetSessions();
    await expect(connector.listTools(c)).resolves.toHaveLength(10);
    expect(upstream.initializeCount()).toBe(opened + 2);
  });

  it('never puts a credential in an error, even when the upstream quotes it', async () => {
    make();
    const refused = ctx(target('bearer_token'), account('bearer_token', { token: 'refused-token-123' }));
    const err = await failure(call(refused, 'echo', { text: 'x' }));
    expect(err).toMatchObject({ code: 'UPSTREAM_ERROR', message: `upstream of connection "up-bearer-token" refused the credential (HTTP 401)` });
    expect(connector.sessions).toBe(0);

    const leaky = ctx(target('api_key'), account('api_key', { api_key: 'very-secret-key-42' }));
    const leaked = await failure(call(leaky, 'leak'));
    expect(leaked.code).toBe('UPSTREAM_ERROR');
    expect(leaked.message).toContain('[redacted]');
    expect(leaked.message).not.toContain('very-secret-key-42');
  });

  it('keeps the vault error code, refuses a credential of the wrong kind, and pools nothing then', async () => {
    make();
    const connection = target('bearer_token');
    await expect(call(ctx(connection, newId('ca')), 'echo', { text: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const wrongKind = account('api_key', { api_key: 'mismatched-key' });
    await expect(call(ctx(connection, wrongKind), 'echo', { text: 'x' })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    await expect(connector.listTools(ctx(connection, null))).rejects.toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE' });
    const withUserInfo = target('none', {}, upstream.url.replace('http://', 'http://user:pw@'));
    const err = await failure(call(ctx(withUserInfo, null), 'echo', { text: 'x' }));
    expect(err).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(err.message).not.toContain('pw');
    expect(connector.sessions).toBe(0);
  });

  it('oauth2: names the refused token to the vault, retries once with the refreshed one, and replaces a session before its token expires', async () => {
    make();
    const connection = target('oauth2');
    const soon = () => new Date(Date.now() + 10 * 60_000).toISOString();
    const a = account('oauth2', { token: 'refused-token-123' });
    credentials.set(a, { auth_type: 'oauth2', secret: { token: 'refused-token-123' }, expires_at: soon() });
    refreshed.set(a, { auth_type: 'oauth2', secret: { token: 'fresh-token-456' }, expires_at: soon() });
    const result = await call(ctx(connection, a), 'echo', { text: 'after refresh' });
    expect(result.isError).toBeFalsy();
    expect(rejections).toEqual([{ accountId: a, rejectedToken: 'refused-token-123' }]);
    expect(upstream.calls.at(-1)).toMatchObject({ headers: { authorization: 'Bearer fresh-token-456' } });

    // A token about to expire (inside the 30 s margin): the pooled session is not used again.
    const b = account('oauth2', { token: 'short-lived-token-1' });
    credentials.set(b, { auth_type: 'oauth2', secret: { token: 'short-lived-token-1' }, expires_at: new Date(Date.now() + 5_000).toISOString() });
    await call(ctx(connection, b), 'echo', { text: 'one' });
    const asked = resolved.filter((x) => x === b).length;
    credentials.set(b, { auth_type: 'oauth2', secret: { token: 'short-lived-token-2' }, expires_at: soon() });
    await call(ctx(connection, b), 'echo', { text: 'two' });
    expect(resolved.filter((x) => x === b).length).toBe(asked + 1);
    expect(upstream.calls.at(-1)).toMatchObject({ headers: { authorization: 'Bearer short-lived-token-2' } });
    // A fresh token's session is reused.
    await call(ctx(connection, b), 'echo', { text: 'three' });
    expect(resolved.filter((x) => x === b).length).toBe(asked + 1);
  });

  it('lists tools for auth `none` with or without an account, one session per account', async () => {
    make();
    const connection = target('none');
    const before = upstream.initializeCount();
    await connector.listTools(ctx(connection, null));
    await connector.listTools(ctx(connection, newId('ca')));
    await connector.listTools(ctx(connection, null));
    expect(upstream.initializeCount() - before).toBe(2);
  });
});
