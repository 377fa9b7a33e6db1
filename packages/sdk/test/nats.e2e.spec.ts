import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
// The SDK is published alone and depends on no internal lib; its tests still start the real stack.
import {
  NATS_PERMISSIONS_FILE,
  natsUsers,
  startNatsServer,
  startStack,
  startUpstreamMcpServer,
  waitFor,
  waitForToolCallEventFilter,
  type NatsServerHandle,
  type Stack,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vmcp, VmcpApiError, VmcpNats, type ConnectedAccount, type McpConfig, type ToolCallFinished, type VmcpTenantClient } from '../src/index.js';

// The SDK over NATS against the real edge's bus API, under the project's permission file and
// as the `internal` user a tenant's own services get (inbox prefix _INBOX_internal): every
// shared method answers over NATS exactly as over HTTP, and the event feed follows tool calls
// through a durable cursor.

async function apiError(promise: Promise<unknown>): Promise<VmcpApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VmcpApiError);
  return err as VmcpApiError;
}

/** The same call over both transports, through the one interface. */
async function both<T>(call: (client: VmcpTenantClient) => Promise<T>): Promise<{ http: T; nats: T }> {
  return { http: await call(http), nats: await call(bus) };
}

let nats: NatsServerHandle;
let upstream: UpstreamMcpServer;
let stack: Stack;
let nc: NatsConnection;
let http: Vmcp;
let bus: VmcpNats;
let apiKey: string;
let config: McpConfig;
let account: ConnectedAccount;

describe('@vmcp/sdk over NATS against the real edge', () => {
  const creds = natsUsers();

  beforeAll(async () => {
    nats = await startNatsServer({ configFile: NATS_PERMISSIONS_FILE, env: creds.serverEnv });
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite', natsUsers: creds.users });
    // Until it knows who reads them, the audit service publishes every tool-call event.
    await waitForToolCallEventFilter(stack);
    const internal = creds.users.internal;
    expect(internal, 'natsUsers() has the internal user of the bus API').toBeDefined();
    nc = await connect({ servers: nats.url, name: 'sdk-nats-e2e', user: internal!.user, pass: internal!.password, inboxPrefix: internal!.inboxPrefix });

    const admin = new Vmcp({ baseUrl: stack.baseUrl, apiKey: stack.adminKey });
    ({ api_key: apiKey } = await admin.tenants.create({ name: 'acme' }));
    http = new Vmcp({ baseUrl: stack.baseUrl, apiKey });
    bus = new VmcpNats({ nats: nc, apiKey, timeoutMs: 10_000 });
    await http.connections.create({ name: 'upstream', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } });
    ({ connected_account: account } = await http.connectedAccounts.upsert({
      connection_name: 'upstream',
      identifier: 'alice',
      authorization_details: { static_auth: { token: 'alice-secret' } },
    }));
    ({ config } = await http.configs.create({ name: 'support', connection_tool_mappings: [{ connection_name: 'upstream', tools: ['echo', 'whoami'] }] }));
  });

  afterAll(async () => {
    await nc?.close();
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('reads the same replies over NATS as over HTTP', async () => {
    const scoped = await both((c) => c.tools.scoped({ config_id: config.id, identifier: 'alice' }));
    expect(scoped.nats).toEqual(scoped.http);
    expect(scoped.nats.tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);

    const list = await both((c) => c.connectedAccounts.list({ identifier: 'alice', page_size: 10 }));
    expect(list.nats).toEqual(list.http);
    expect(list.nats.connected_accounts.map((a) => a.id)).toEqual([account.id]);
    const iterated = await both(async (c) => {
      const ids: string[] = [];
      for await (const a of c.connectedAccounts.iterate({ page_size: 1 })) ids.push(a.id);
      return ids;
    });
    expect(iterated.nats).toEqual(iterated.http);

    const got = await both((c) => c.connectedAccounts.get(account.id));
    expect(got.nats).toEqual(got.http);

    const states = await both((c) => c.configs.connectedAccounts(config.id, { identifier: 'alice' }));
    expect(states.nats).toEqual(states.http);
    expect(states.nats.connected_accounts).toEqual([expect.objectContaining({ connection_name: 'upstream', connected_account_status: 'ACTIVE' })]);
  });

  it('mints and revokes tokens over NATS as over HTTP', async () => {
    const minted = await both((c) => c.configs.mintToken(config.id, { identifier: 'alice', expiry_seconds: 600 }));
    expect(Object.keys(minted.nats).sort()).toEqual(Object.keys(minted.http).sort());
    expect(minted.nats).toMatchObject({ token_id: expect.stringMatching(/^tok_/), mcp_server_url: minted.http.mcp_server_url });
    expect(minted.nats.token_id).not.toBe(minted.http.token_id);

    expect(await bus.tokens.revoke(minted.nats.token_id)).toEqual({ token_id: minted.nats.token_id, revoked: true });
    expect(await http.tokens.revoke(minted.http.token_id)).toEqual({ token_id: minted.http.token_id, revoked: true });
  });

  it('runs a tool over NATS and reads its audit entry as over HTTP', async () => {
    const ran = await both((c) => c.tools.execute({ tool_name: 'echo', params: { text: 'same' }, identifier: 'alice', config_id: config.id, agent_run_id: 'run-nats' }));
    const { execution_id: natsId, ...natsResult } = ran.nats;
    const { execution_id: httpId, ...httpResult } = ran.http;
    expect(natsResult).toEqual(httpResult);
    expect(natsResult).toMatchObject({ successful: true, data: 'same' });
    expect(natsId).not.toBe(httpId);

    // Audit entries are written from a stream, a moment after the call returned.
    await waitFor(async () => {
      const page = await http.toolCallLogs.list({ agent_run_id: 'run-nats' });
      return page.tool_call_logs.length === 2 && page.tool_call_logs.every((e) => e.status === 'SUCCESS') ? page : undefined;
    });
    const logs = await both((c) => c.toolCallLogs.list({ agent_run_id: 'run-nats', page_size: 10 }));
    expect(logs.nats).toEqual(logs.http);
    const entry = await both((c) => c.toolCallLogs.get(natsId));
    expect(entry.nats).toEqual(entry.http);
    expect(entry.nats.tool_call_log).toMatchObject({ execution_id: natsId, source: 'api', agent_run_id: 'run-nats' });
  });

  it('fails over NATS with the code and status it fails with over HTTP', async () => {
    // An authorization link needs an OAuth connection; this one takes a bearer token.
    const link = { connection_name: 'upstream', identifier: 'alice' };
    const [overHttp, overNats] = [await apiError(http.connectedAccounts.authorizationLink(link)), await apiError(bus.connectedAccounts.authorizationLink(link))];
    expect([overNats.code, overNats.status]).toEqual([overHttp.code, overHttp.status]);

    const missing = 'ca_00000000000000000000000000';
    const notFound = [await apiError(http.connectedAccounts.get(missing)), await apiError(bus.connectedAccounts.get(missing))];
    expect(notFound.map((e) => [e.code, e.status])).toEqual([
      ['NOT_FOUND', 404],
      ['NOT_FOUND', 404],
    ]);

    const invalid = [
      await apiError(http.configs.mintToken(config.id, { identifier: 'alice', expiry_seconds: 5 })),
      await apiError(bus.configs.mintToken(config.id, { identifier: 'alice', expiry_seconds: 5 })),
    ];
    expect(invalid.map((e) => [e.code, e.status])).toEqual([
      ['INVALID_ARGUMENT', 400],
      ['INVALID_ARGUMENT', 400],
    ]);

    const stranger = new VmcpNats({ nats: nc, apiKey: 'vmcp_not_a_real_key' });
    const refused = await apiError(stranger.tools.scoped({ config_id: config.id, identifier: 'alice' }));
    expect([refused.code, refused.status]).toEqual(['UNAUTHENTICATED', 401]);
    expect(refused.message).not.toContain('vmcp_not_a_real_key');
  });

  it('follows tool_call.finished through a durable cursor that resumes where it acknowledged', async () => {
    const billed: ToolCallFinished[] = [];
    /** Reads the cursor until `executionId` finished, acknowledging that one too before leaving. */
    const follow = async (executionId: string) => {
      for await (const delivery of bus.events.subscribe({ consumer: 'billing', types: ['tool_call.finished'], start: 'all', waitMs: 2_000 })) {
        billed.push(delivery.event);
        if (delivery.event.data.execution_id === executionId) {
          await delivery.ack();
          break;
        }
      }
    };
    // The cursor is made before the calls it is to see: a tenant's tool-call events are kept
    // from its first subscription to them on (the earlier tests' calls were before it).
    expect((await bus.events.pull({ consumer: 'billing', types: ['tool_call.finished'], start: 'all', wait_ms: 0 })).events).toEqual([]);
    const first = await bus.tools.execute({ tool_name: 'echo', params: { text: 'bill me' }, identifier: 'alice', config_id: config.id });
    await follow(first.execution_id);
    expect(billed).toHaveLength(1);
    expect(billed[0]).toMatchObject({ type: 'tool_call.finished', tenant_id: expect.stringMatching(/^ten_/) });
    expect(billed[0]!.data).toMatchObject({ execution_id: first.execution_id, status: 'SUCCESS', tool_name: 'echo', identifier: 'alice', source: 'api' });

    // A reader that comes back resumes after what it acknowledged: only the new call.
    const second = await bus.tools.execute({ tool_name: 'echo', params: { text: 'bill me too' }, identifier: 'alice', config_id: config.id });
    const before = billed.length;
    await follow(second.execution_id);
    expect(billed.slice(before).map((e) => e.data.execution_id)).toEqual([second.execution_id]);

    expect(await bus.events.deleteConsumer('billing')).toEqual({ consumer: 'billing', deleted: true });
  });
});
