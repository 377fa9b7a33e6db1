import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { busApi, events } from '@vmcp/contracts';
import {
  api,
  NATS_PERMISSIONS_FILE,
  natsUsers,
  permissionRefusal,
  startNatsServer,
  startStack,
  startUpstreamMcpServer,
  waitFor,
  waitForToolCallEventFilter,
  type ApiClient,
  type NatsServerHandle,
  type Stack,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Issue 9, events: a tenant's backend reads its tool-call and account events over the bus API
// (vmcp.api.v1.events.*) as the permission file's `internal` user, through named cursors that
// survive its downtime, under the very permission file production uses (the edge's JetStream
// grants on the events stream, the audit service's publish of tool-call events).

const EVENTS = 'VMCP_EVENTS';

interface Delivered {
  ack_id: string;
  seq: number;
  deliveries: number;
  event: { event_id: string; type: string; tenant_id: string; data: Record<string, unknown> };
}

describe('the event feed over the bus API', () => {
  const creds = natsUsers();
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  const tenants: Record<'acme' | 'globex' | 'initech', { id: string; key: string; api: ApiClient; configId: string }> = {} as never;
  const connections: NatsConnection[] = [];

  const connectAs = async (service: string, name: string) => {
    const u = creds.users[service]!;
    const nc = await connect({ servers: nats.url, name, user: u.user, pass: u.password, inboxPrefix: u.inboxPrefix });
    connections.push(nc);
    return nc;
  };
  const request = async <T>(nc: NatsConnection, rpc: { subject: string }, payload: unknown, key = tenants.acme.key): Promise<T & { error?: { code: string; message: string } }> => {
    const h = natsHeaders();
    h.set(busApi.API_KEY_HEADER, key);
    return (await nc.request(rpc.subject, JSON.stringify(payload), { timeout: 10_000, headers: h })).json();
  };
  const pull = (nc: NatsConnection, payload: Record<string, unknown>, key?: string) =>
    request<{ events: Delivered[]; redeliver_after_ms: number }>(nc, busApi.pullEvents, { wait_ms: 500, ...payload }, key);
  const ack = (nc: NatsConnection, consumer: string, got: Delivered[], key?: string) =>
    request<{ acked: number }>(nc, busApi.ackEvents, { consumer, ack_ids: got.map((e) => e.ack_id) }, key);

  /** Pulls (acknowledging as it goes) until `done` holds for everything read, then a last empty pull shows nothing more is pending. */
  const readUntil = async (nc: NatsConnection, consumer: string, done: (all: Delivered[]) => boolean, extra: Record<string, unknown> = {}, key?: string) => {
    const all: Delivered[] = [];
    await waitFor(
      async () => {
        const r = await pull(nc, { consumer, ...extra }, key);
        expect(r.error).toBeUndefined();
        if (r.events.length) expect((await ack(nc, consumer, r.events, key)).acked).toBe(r.events.length);
        all.push(...r.events);
        return done(all);
      },
      { what: `events on cursor ${consumer}` },
    );
    return all;
  };
  const toolCalls = (all: Delivered[]) => all.filter((e) => e.event.type.startsWith('tool_call.'));
  const execute = (t: 'acme' | 'globex' | 'initech', tool: string, run: string) =>
    tenants[t].api.post<{ execution_id?: string }>('/api/v1/execute_tool', { tool_name: tool, params: { text: 'hi' }, identifier: 'alice', config_id: tenants[t].configId, agent_run_id: run });

  beforeAll(async () => {
    nats = await startNatsServer({ configFile: NATS_PERMISSIONS_FILE, env: creds.serverEnv });
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite', natsUsers: creds.users });
    const admin = api(stack.baseUrl, stack.adminKey);
    for (const name of ['acme', 'globex', 'initech'] as const) {
      const created = (await admin.post('/api/v1/tenants', { name })).body as { api_key: string; tenant: { id: string } };
      const t = api(stack.baseUrl, created.api_key);
      await t.post('/api/v1/connections', { name: 'up', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } });
      await t.post('/api/v1/connected_accounts', { connection_name: 'up', identifier: 'alice', authorization_details: { static_auth: { token: `${name}-alice-secret` } } });
      const cfg = await t.post<{ config: { id: string } }>('/api/v1/mcp/configs', { name: 'support', connection_tool_mappings: [{ connection_name: 'up', tools: ['echo'] }] });
      tenants[name] = { id: created.tenant.id, key: created.api_key, api: t, configId: cfg.body.config.id };
    }
    // acme's and globex's backends subscribed to their tool-call events before any call (a
    // cursor taking them, made once: its mark stays when it goes); initech's never did.
    const setup = await connectAs('internal', 'setup-backend');
    for (const name of ['acme', 'globex'] as const) {
      expect((await pull(setup, { consumer: 'setup', types: ['tool_call.denied'], wait_ms: 0 }, tenants[name].key)).error).toBeUndefined();
      expect((await request(setup, busApi.deleteEventConsumer, { consumer: 'setup' }, tenants[name].key)).error).toBeUndefined();
    }
  });

  afterAll(async () => {
    await Promise.allSettled(connections.map((nc) => nc.close()));
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it("delivers a tenant's tool-call events, and after the reader's downtime exactly the ones it missed", async () => {
    let backend = await connectAs('internal', 'acme-backend');
    // The account's activation and every call from here on, on a cursor of acme's own.
    const ok = await execute('acme', 'echo', 'run-1');
    expect(ok.status).toBe(200);
    const denied = await execute('acme', 'not-mapped', 'run-2');
    expect(denied.status).toBe(404);
    await execute('globex', 'echo', 'globex-run');

    const first = await readUntil(backend, 'billing', (all) => toolCalls(all).length >= 3, { start: 'all' });
    expect(first.every((e) => e.event.tenant_id === tenants.acme.id && e.deliveries === 1)).toBe(true);
    expect(first.map((e) => e.event.type)).toContain('connected_account.status_changed');
    const calls = toolCalls(first);
    expect(calls.map((e) => [e.event.type, e.event.data.agent_run_id, e.event.data.status])).toEqual([
      ['tool_call.started', 'run-1', 'STARTED'],
      ['tool_call.finished', 'run-1', 'SUCCESS'],
      ['tool_call.denied', 'run-2', 'DENIED'],
    ]);
    expect(calls[1]!.event.data).toMatchObject({ execution_id: ok.body.execution_id, source: 'api', tool_name: 'echo', identifier: 'alice', connection_name: 'up' });
    expect(calls[2]!.event.data).toMatchObject({ error_code: 'TOOL_NOT_FOUND' });
    // The config does not capture payloads: neither arguments nor results, and never a credential.
    expect(JSON.stringify(first)).not.toMatch(/"arguments"|"result"|alice-secret/);

    // The backend goes down; calls go on; it comes back on a new connection.
    await backend.close();
    const missed = [await execute('acme', 'echo', 'run-3'), await execute('acme', 'echo', 'run-4')];
    backend = await connectAs('internal', 'acme-backend-again');
    const second = await readUntil(backend, 'billing', (all) => toolCalls(all).length >= 4);
    expect(toolCalls(second).map((e) => [e.event.type, e.event.data.execution_id])).toEqual([
      ['tool_call.started', missed[0]!.body.execution_id],
      ['tool_call.finished', missed[0]!.body.execution_id],
      ['tool_call.started', missed[1]!.body.execution_id],
      ['tool_call.finished', missed[1]!.body.execution_id],
    ]);
    const ids = [...first, ...second].map((e) => e.event.event_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect((await pull(backend, { consumer: 'billing', wait_ms: 0 })).events).toEqual([]);

  });

  it('keeps no tool-call events of a tenant before its first subscription to them, and every one after it', async () => {
    // (Until its view of who reads them is complete, the audit service publishes them for everyone.)
    await waitForToolCallEventFilter(stack);
    const backend = await connectAs('internal', 'initech-backend');
    const before = await execute('initech', 'echo', 'before-any-cursor');
    expect(before.status).toBe(200);
    // Its calls so far are in the audit trail only; a cursor from the oldest event on sees the
    // account's activation, and the calls from its own making on.
    await waitFor(async () => (await tenants.initech.api.get<{ tool_call_log: { status: string } }>(`/api/v1/tool_call_logs/${before.body.execution_id!}`)).body.tool_call_log?.status === 'SUCCESS');
    const key = tenants.initech.key;
    const first = await readUntil(backend, 'late', (all) => all.some((e) => e.event.type === 'connected_account.status_changed'), { start: 'all' }, key);
    expect(toolCalls(first)).toEqual([]);
    const after = await execute('initech', 'echo', 'after-the-cursor');
    const second = await readUntil(backend, 'late', (all) => toolCalls(all).length >= 2, {}, key);
    expect(toolCalls(second).map((e) => [e.event.type, e.event.data.execution_id])).toEqual([
      ['tool_call.started', after.body.execution_id],
      ['tool_call.finished', after.body.execution_id],
    ]);
    expect((await request(backend, busApi.deleteEventConsumer, { consumer: 'late' }, key)).error).toBeUndefined();
  });

  it("keeps each tenant's cursors, events and ack ids its own, and a cursor's types fixed", async () => {
    const backend = await connectAs('internal', 'two-tenants-backend');
    const acmeGot = await readUntil(backend, 'calls', (all) => all.length >= 1, { start: 'all', types: ['tool_call.finished'] });
    // The same cursor name for globex, another cursor: globex's one finished call only.
    await execute('globex', 'echo', 'globex-run-2');
    const globexGot = await readUntil(backend, 'calls', (all) => all.some((e) => e.event.data.agent_run_id === 'globex-run-2'), { start: 'all', types: ['tool_call.finished'] }, tenants.globex.key);
    expect(globexGot.every((e) => e.event.tenant_id === tenants.globex.id && e.event.type === 'tool_call.finished')).toBe(true);
    expect(acmeGot.every((e) => e.event.tenant_id === tenants.acme.id && e.event.type === 'tool_call.finished')).toBe(true);

    // An ack id of acme's is nothing to globex, nor garbage to anyone.
    const fresh = await execute('acme', 'echo', 'run-unacked');
    const unacked = await waitFor(async () => {
      const r = await pull(backend, { consumer: 'calls', types: ['tool_call.finished'] });
      return r.events.find((e) => e.event.data.execution_id === fresh.body.execution_id);
    });
    for (const [key, ackId] of [
      [tenants.globex.key, unacked.ack_id],
      [tenants.acme.key, Buffer.from(`$JS.ACK.${EVENTS}.webhook-delivery.1.1.1.1.0`).toString('base64url')],
      [tenants.acme.key, 'bm90LWFuLWFjay1pZA'],
    ] as const) {
      const refused = await request(backend, busApi.ackEvents, { consumer: 'calls', ack_ids: [ackId] }, key);
      expect(refused.error?.code).toBe('INVALID_ARGUMENT');
    }
    expect((await ack(backend, 'calls', [unacked])).acked).toBe(1);

    const other = await pull(backend, { consumer: 'calls' });
    expect(other.error).toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringContaining('tool_call.finished') });
    expect((await request(backend, busApi.deleteEventConsumer, { consumer: 'calls' })).error).toBeUndefined();
    expect((await request(backend, busApi.deleteEventConsumer, { consumer: 'calls' })).error?.code).toBe('NOT_FOUND');
  });

  it("lets the edge manage feed cursors but never the executor's webhook consumer or the stream, and the audit service publish only tool-call events", async () => {
    const edge = await connectAs('edge', 'test-as-edge');
    const jsm = await jetstreamManager(edge, { checkAPI: false });
    const refusals = [
      [() => jsm.consumers.info(EVENTS, 'webhook-delivery'), `publish $JS.API.CONSUMER.INFO.${EVENTS}.webhook-delivery`],
      [() => jsm.consumers.delete(EVENTS, 'webhook-delivery'), `publish $JS.API.CONSUMER.DELETE.${EVENTS}.webhook-delivery`],
      [
        () => jsm.consumers.add(EVENTS, { durable_name: 'webhook-delivery', filter_subject: `${events.EVENTS_SUBJECT_PREFIX}.>` }),
        `publish $JS.API.CONSUMER.CREATE.${EVENTS}.webhook-delivery.${events.EVENTS_SUBJECT_PREFIX}.>`,
      ],
      [() => edge.request(`$JS.API.CONSUMER.MSG.NEXT.${EVENTS}.webhook-delivery`, JSON.stringify({ batch: 1 })), `publish $JS.API.CONSUMER.MSG.NEXT.${EVENTS}.webhook-delivery`],
      [() => jsm.streams.info(EVENTS), `publish $JS.API.STREAM.INFO.${EVENTS}`],
      [() => jsm.streams.purge(EVENTS), `publish $JS.API.STREAM.PURGE.${EVENTS}`],
      [() => jsm.streams.delete(EVENTS), `publish $JS.API.STREAM.DELETE.${EVENTS}`],
      [() => jsm.streams.getMessage(EVENTS, { seq: 1 }), `publish $JS.API.STREAM.MSG.GET.${EVENTS}`],
    ] as const;
    for (const [attempt, expected] of refusals) expect(await permissionRefusal(attempt).catch((e: Error) => e.message), expected).toBe(expected);
    // The executor's consumer is still there and still its own.
    const executor = await jetstreamManager(await connectAs('executor', 'test-as-executor'), { checkAPI: false });
    expect((await executor.consumers.info(EVENTS, 'webhook-delivery')).name).toBe('webhook-delivery');

    // The audit service announces tool calls, and nothing else.
    const auditNc = await connectAs('audit', 'test-as-audit');
    const forged = events.eventSubject(tenants.acme.id, 'connected_account.status_changed');
    expect(await permissionRefusal(() => jetstream(auditNc).publish(forged, '{}'))).toBe(`publish ${forged}`);
  });
});

