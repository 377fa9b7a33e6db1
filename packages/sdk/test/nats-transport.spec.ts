import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { inspect } from 'node:util';
// The SDK is published alone and depends on no internal lib; its tests may start a real nats-server.
import { startNatsServer, type NatsServerHandle } from '@vmcp/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BUS_SUBJECTS, VmcpApiError, VmcpConnectionError, VmcpError, VmcpNats, VmcpTimeoutError, type VmcpNatsOptions } from '../src/index.js';
import { errorReply, NO_REPLY, startBusStub, type BusStub, type StubHandler } from './bus-stub.js';

// The NATS transport against a real nats-server and a stub responder on vmcp.api.v1.>:
// what goes on the wire (subject, key header, flat payload) and how every failure comes back.

const API_KEY = 'vmcp_sk_test_6b1e4f0a9c2d7e3b5a8f';

let server: NatsServerHandle;
let nc: NatsConnection;
let stub: BusStub | undefined;

beforeAll(async () => {
  server = await startNatsServer({ jetstream: false });
  nc = await connect({ servers: server.url, name: 'sdk-nats-transport-spec' });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});
afterEach(() => {
  stub?.stop();
  stub = undefined;
});

/** A stub answering with the handler, and a client on the same connection; the subscription is in place before the first request. */
async function serve(handler: StubHandler, options: Partial<VmcpNatsOptions> = {}): Promise<{ vmcp: VmcpNats; stub: BusStub }> {
  stub = startBusStub(nc, handler);
  await nc.flush();
  return { vmcp: new VmcpNats({ nats: nc, apiKey: API_KEY, ...options }), stub };
}

async function failure(promise: Promise<unknown>): Promise<VmcpError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VmcpError);
  return err as VmcpError;
}

describe('requests', () => {
  it('sends each shared method on its subject with the key header and the REST call as one flat object', async () => {
    const { vmcp, stub } = await serve((req) => ({ echoed: req.subject }));
    await vmcp.configs.mintToken('cfg_1', { identifier: 'alice', expiry_seconds: 600 });
    await vmcp.tokens.revoke('tok_1');
    await vmcp.tools.scoped({ config_id: 'cfg_1', identifier: 'alice' });
    await vmcp.tools.execute({ tool_name: 'echo', params: { text: 'hi' }, identifier: 'alice', config_id: 'cfg_1', agent_run_id: 'run-1' });
    await vmcp.connectedAccounts.list({ identifier: 'alice', page_size: 10, page_token: undefined });
    await vmcp.connectedAccounts.get('ca_1');
    await vmcp.connectedAccounts.authorizationLink({ connection_name: 'gh', identifier: 'alice', redirect_url: 'https://app.example/back' });
    await vmcp.configs.connectedAccounts('cfg_1', { identifier: 'alice', include_auth_link: true });
    await vmcp.toolCallLogs.list({ agent_run_id: 'run-1', page_size: 5 });
    await vmcp.toolCallLogs.get('exe_1');

    expect(stub.requests.map((r) => [r.subject, r.payload])).toEqual([
      ['vmcp.api.v1.tokens.mint', { config_id: 'cfg_1', identifier: 'alice', expiry_seconds: 600 }],
      ['vmcp.api.v1.tokens.revoke', { token_id: 'tok_1' }],
      ['vmcp.api.v1.tools.scoped', { config_id: 'cfg_1', identifier: 'alice' }],
      ['vmcp.api.v1.tools.execute', { tool_name: 'echo', params: { text: 'hi' }, identifier: 'alice', config_id: 'cfg_1', agent_run_id: 'run-1' }],
      // Query values keep their JSON types; undefined ones are left out.
      ['vmcp.api.v1.connected_accounts.list', { identifier: 'alice', page_size: 10 }],
      ['vmcp.api.v1.connected_accounts.get', { id: 'ca_1' }],
      ['vmcp.api.v1.connected_accounts.authorization_link', { connection_name: 'gh', identifier: 'alice', redirect_url: 'https://app.example/back' }],
      ['vmcp.api.v1.configs.connected_accounts', { config_id: 'cfg_1', identifier: 'alice', include_auth_link: true }],
      ['vmcp.api.v1.tool_call_logs.list', { agent_run_id: 'run-1', page_size: 5 }],
      ['vmcp.api.v1.tool_call_logs.get', { execution_id: 'exe_1' }],
    ]);
    expect(stub.requests.every((r) => r.apiKey === API_KEY)).toBe(true);
    // Every REST-twin subject of the table was exercised above.
    const restTwins = Object.entries(BUS_SUBJECTS).filter(([name]) => !name.startsWith('events.'));
    expect(new Set(stub.requests.map((r) => r.subject))).toEqual(new Set(restTwins.map(([, subject]) => subject)));
  });

  it('returns the reply body unchanged, and walks pages with iterate', async () => {
    const page = (n: number) => ({ connected_accounts: [{ id: `ca_${n}` }], ...(n < 3 ? { next_page_token: `p${n + 1}` } : {}) });
    const { vmcp, stub } = await serve((req) => (req.subject.endsWith('.list') ? page(req.payload.page_token ? Number(String(req.payload.page_token).slice(1)) : 1) : {}));
    const ids: string[] = [];
    for await (const account of vmcp.connectedAccounts.iterate({ identifier: 'alice', page_size: 1 })) ids.push(account.id);
    expect(ids).toEqual(['ca_1', 'ca_2', 'ca_3']);
    expect(stub.requests.map((r) => r.payload)).toEqual([
      { identifier: 'alice', page_size: 1 },
      { identifier: 'alice', page_size: 1, page_token: 'p2' },
      { identifier: 'alice', page_size: 1, page_token: 'p3' },
    ]);
  });
});

describe('errors', () => {
  it('throws VmcpApiError with the code of an error reply and the status REST gives it', async () => {
    const { vmcp } = await serve((req) =>
      req.subject.endsWith('tokens.mint') ? errorReply('INVALID_ARGUMENT', 'expiry_seconds: too small') : errorReply('NOT_FOUND', 'connected account not found'),
    );
    const invalid = await failure(vmcp.configs.mintToken('cfg_1', { identifier: 'alice', expiry_seconds: 5 }));
    expect(invalid).toBeInstanceOf(VmcpApiError);
    expect(invalid).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT', message: 'vmcp.api.v1.tokens.mint: expiry_seconds: too small' });
    expect(await failure(vmcp.connectedAccounts.get('ca_x'))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('maps every code the way the REST API maps it to a status', async () => {
    const statuses: Record<string, number> = {
      UNAUTHENTICATED: 401,
      TOKEN_REVOKED: 401,
      FORBIDDEN: 403,
      TOOL_NOT_FOUND: 404,
      CANCELLED: 408,
      ACCOUNT_NOT_ACTIVE: 412,
      PAYLOAD_TOO_LARGE: 413,
      RESOURCE_EXHAUSTED: 429,
      INTERNAL: 500,
      UPSTREAM_ERROR: 502,
      DEADLINE_EXCEEDED: 504,
      SOMETHING_NEWER: 500,
    };
    let code = '';
    const { vmcp } = await serve(() => errorReply(code, 'no'));
    for (const [c, status] of Object.entries(statuses)) {
      code = c;
      expect(await failure(vmcp.tools.execute({ tool_name: 't', identifier: 'a', config_id: 'cfg_1' })), c).toMatchObject({ code: c, status });
    }
  });

  it('never puts the key in a message, even when the responder echoes it, nor in the logged client', async () => {
    const { vmcp } = await serve(() => errorReply('UNAUTHENTICATED', `unknown key ${API_KEY}`));
    const err = await failure(vmcp.tools.scoped({ config_id: 'cfg_1', identifier: 'a' }));
    expect(err.message).toBe('vmcp.api.v1.tools.scoped: unknown key [redacted]');
    expect(inspect(err, { depth: 5 })).not.toContain(API_KEY);
    expect(inspect(vmcp, { depth: 5, showHidden: true })).not.toContain(API_KEY);
  });

  it('throws VmcpTimeoutError when no reply comes, retrying reads but never mint or execute', async () => {
    const { vmcp, stub } = await serve(() => NO_REPLY, { timeoutMs: 100, maxRetries: 1 });
    const execute = await failure(vmcp.tools.execute({ tool_name: 't', identifier: 'a', config_id: 'cfg_1' }));
    expect(execute).toBeInstanceOf(VmcpTimeoutError);
    expect(execute.message).toBe('vmcp.api.v1.tools.execute: no reply within 100 ms (the call may still run to its deadline; the audit log has its outcome)');
    expect(await failure(vmcp.configs.mintToken('cfg_1', { identifier: 'a' }))).toBeInstanceOf(VmcpTimeoutError);
    expect(stub.requests.map((r) => r.subject)).toEqual(['vmcp.api.v1.tools.execute', 'vmcp.api.v1.tokens.mint']);

    expect(await failure(vmcp.toolCallLogs.get('exe_1'))).toBeInstanceOf(VmcpTimeoutError);
    expect(stub.requests.slice(2).map((r) => r.subject)).toEqual(['vmcp.api.v1.tool_call_logs.get', 'vmcp.api.v1.tool_call_logs.get']);
  });

  it('retries a read after UNAVAILABLE, and a POST not at all', async () => {
    const { vmcp, stub } = await serve((req) => (req.n === 1 || req.subject.endsWith('authorization_link') ? errorReply('UNAVAILABLE', 'policy is down') : { tool_call_log: { execution_id: 'exe_1' } }));
    expect(await vmcp.toolCallLogs.get('exe_1')).toEqual({ tool_call_log: { execution_id: 'exe_1' } });
    expect(stub.requests).toHaveLength(2);
    expect(await failure(vmcp.connectedAccounts.authorizationLink({ connection_name: 'gh', identifier: 'a' }))).toMatchObject({ code: 'UNAVAILABLE', status: 503 });
    expect(stub.requests).toHaveLength(3);
  });

  it('throws VmcpConnectionError at once when nothing serves the subject (no responders)', async () => {
    const vmcp = new VmcpNats({ nats: nc, apiKey: API_KEY, timeoutMs: 10_000, maxRetries: 0 });
    const err = await failure(vmcp.tools.execute({ tool_name: 't', identifier: 'a', config_id: 'cfg_1' }));
    expect(err).toBeInstanceOf(VmcpConnectionError);
    expect(err.message).toMatch(/^vmcp\.api\.v1\.tools\.execute: nothing answers it/);
  });

  it('throws VmcpConnectionError on a closed connection', async () => {
    const closed = await connect({ servers: server.url });
    await closed.close();
    const vmcp = new VmcpNats({ nats: closed, apiKey: API_KEY, maxRetries: 0 });
    expect(await failure(vmcp.tokens.revoke('tok_1'))).toBeInstanceOf(VmcpConnectionError);
  });

  it('refuses locally, and does not retry, a payload over the server\'s max_payload', async () => {
    const { vmcp, stub } = await serve(() => ({ tool_call_logs: [] }));
    const err = await failure(vmcp.toolCallLogs.list({ identifier: 'x'.repeat(2 * 1024 * 1024) }));
    expect(err.constructor).toBe(VmcpError);
    expect(err.message).toMatch(/^vmcp\.api\.v1\.tool_call_logs\.list: .*max_payload/);
    expect(stub.requests).toHaveLength(0);
  });

  it('throws a VmcpError for a reply that is not JSON', async () => {
    stub = undefined;
    const sub = nc.subscribe('vmcp.api.v1.tools.scoped', { callback: (_e, msg) => void msg.respond('<html>') });
    await nc.flush();
    const vmcp = new VmcpNats({ nats: nc, apiKey: API_KEY });
    const err = await failure(vmcp.tools.scoped({ config_id: 'cfg_1', identifier: 'a' }));
    sub.unsubscribe();
    expect(err.constructor).toBe(VmcpError);
    expect(err.message).toBe('vmcp.api.v1.tools.scoped: the reply is not JSON');
  });
});
