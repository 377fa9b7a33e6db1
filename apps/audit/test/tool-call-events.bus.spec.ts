import 'reflect-metadata';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { events, newId, type AuditEvent, type VmcpEvent } from '@vmcp/contracts';
import { Bus, EVENT_INTEREST_WRITERS, markToolCallInterest, markWriterReady, openEventInterest, publishAuditEvent, verifyAuditChain } from '@vmcp/messaging';
import { databaseEnv, startInProcessService, startNatsServer, uniqueName, waitFor, type InProcessService, type NatsServerHandle } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditModule } from '../src/audit.module.js';
import { AUDIT_CONSUMER, AuditWriterService } from '../src/ingest/audit-writer.service.js';

// Tool-call events: the audit service announces each stored record on the tenant's events
// stream (vmcp.events.v1.<tenant>.tool_call.*) before it acknowledges the record, once per
// record whatever the redeliveries, and with payloads only when the call's config captured them;
// only for tenants that read them (marked in the event-interest bucket).

describe('tool call events from the audit service', () => {
  let nats: NatsServerHandle;
  let service: InProcessService;
  let client: Bus;
  let jsm: JetStreamManager;
  const db = databaseEnv('sqlite');
  const auditStream = uniqueName('AUDIT_');
  const eventsStream = uniqueName('EVENTS_');
  const interestBucket = uniqueName('interest_');

  const facts = (tenant: string) => ({
    execution_id: newId('exe'),
    tenant_id: tenant,
    config_id: newId('cfg'),
    connection_name: 'crm',
    connector: 'mcp',
    connected_account_id: newId('ca'),
    identifier: 'alice',
    tool_name: 'lookup',
    source: 'mcp' as const,
    agent_run_id: 'run-1' as string | null,
    started_at: '2026-11-24T10:00:00.000Z',
  });
  const digest = { arguments_size: 16, arguments_sha256: 'a'.repeat(64) };
  const started = (f: ReturnType<typeof facts>, extra: object = {}): AuditEvent => ({ ...f, type: 'started', event_id: newId('evt'), ...digest, ...extra });
  const finished = (f: ReturnType<typeof facts>, extra: object = {}): AuditEvent => ({
    ...f,
    type: 'finished',
    event_id: newId('evt'),
    status: 'SUCCESS',
    error_code: null,
    error_message: null,
    finished_at: '2026-11-24T10:00:00.012Z',
    duration_ms: 12,
    result_size: 48,
    result_sha256: 'b'.repeat(64),
    ...extra,
  });

  /** Every event on the events stream, in stream order. */
  const streamEvents = async (): Promise<VmcpEvent[]> => {
    const { state } = await jsm.streams.info(eventsStream);
    const out: VmcpEvent[] = [];
    for (let seq = state.first_seq; state.messages && seq <= state.last_seq; seq++) {
      const m = (await jsm.streams.getMessage(eventsStream, { seq }))!;
      const event = events.VmcpEvent.parse(m.json());
      expect(m.subject).toBe(events.eventSubject(event.tenant_id, event.type));
      out.push(event);
    }
    return out;
  };
  const ofTenant = async (tenant: string) => (await streamEvents()).filter((e) => e.tenant_id === tenant);
  /** The audit consumer has handled (and so published and acknowledged) everything on its stream. */
  const drained = () =>
    waitFor(
      async () => {
        const c = await jsm.consumers.info(auditStream, AUDIT_CONSUMER);
        return c.num_pending === 0 && c.num_ack_pending === 0;
      },
      { what: 'the audit consumer drained' },
    );

  /** The tenant reads its tool-call events (a webhook or cursor took them), and the writer knows it. */
  const reading = async (tenant: string) => {
    const kv = await openEventInterest(client, interestBucket);
    await markToolCallInterest(kv, tenant);
    // Policy and the edge, here absent, have each marked all their tenants.
    for (const w of EVENT_INTEREST_WRITERS) await markWriterReady(kv, w);
    const writer = service.app.get(AuditWriterService);
    // Live view (a tenant nobody marked is not announced), and this tenant in it.
    await waitFor(() => writer.announces(tenant) && !writer.announces(newId('ten')), { what: 'the writer to see the mark' });
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    service = await startInProcessService({
      service: 'audit',
      natsUrl: nats.url,
      env: { ...db.env, VMCP_AUDIT_STREAM: auditStream, VMCP_EVENTS_STREAM: eventsStream, VMCP_EVENT_INTEREST_BUCKET: interestBucket },
      module: (core) => AuditModule.forRoot(core),
      beforeListen: (app) => app.get(AuditWriterService).start(),
    });
    client = await Bus.connect({ url: nats.url, name: 'audit-events-test', timeoutMs: 3000 });
    jsm = await jetstreamManager(client.connection);
  });

  afterAll(async () => {
    await client?.close();
    await service?.close();
    await nats?.stop();
    await db.drop();
  });

  it('publishes started, finished and denied once each, with payloads only when captured', async () => {
    const tenant = newId('ten');
    await reading(tenant);
    const plain = facts(tenant);
    const captured = { ...facts(tenant), execution_id: newId('exe'), agent_run_id: null };
    const refused = { ...facts(tenant), execution_id: newId('exe') };
    const records: AuditEvent[] = [
      started(plain),
      finished(plain),
      started(captured, { arguments: { query: 'acme', api_key: '[REDACTED]' } }),
      finished(captured, { status: 'ERROR', error_code: 'UPSTREAM_ERROR', error_message: 'tool reported an error', result: { content: [], isError: true } }),
      {
        ...refused,
        type: 'denied',
        event_id: newId('evt'),
        ...digest,
        finished_at: '2026-11-24T10:00:00.001Z',
        error_code: 'TOOL_NOT_FOUND',
        error_message: 'Tool "x" not found',
        duration_ms: 1,
      },
    ];
    for (const r of records) await publishAuditEvent(client, auditStream, r);
    const got = await waitFor(async () => {
      const list = await ofTenant(tenant);
      return list.length >= 5 ? list : undefined;
    });
    await drained();
    expect(await ofTenant(tenant)).toHaveLength(5);
    // The audit record's id is the event's: one id to deduplicate on, whichever copy arrives.
    expect(got.map((e) => e.event_id)).toEqual(records.map((r) => r.event_id));
    expect(got.map((e) => e.type)).toEqual(['tool_call.started', 'tool_call.finished', 'tool_call.started', 'tool_call.finished', 'tool_call.denied']);

    const common = (f: ReturnType<typeof facts>) => ({
      execution_id: f.execution_id,
      config_id: f.config_id,
      connection_name: 'crm',
      connector: 'mcp',
      connected_account_id: f.connected_account_id,
      identifier: 'alice',
      tool_name: 'lookup',
      source: 'mcp',
      agent_run_id: f.agent_run_id,
      started_at: '2026-11-24T10:00:00.000Z',
    });
    expect(got[0]).toEqual({ event_id: records[0]!.event_id, type: 'tool_call.started', tenant_id: tenant, occurred_at: '2026-11-24T10:00:00.000Z', data: { ...common(plain), status: 'STARTED' } });
    expect(got[1]).toEqual({
      event_id: records[1]!.event_id,
      type: 'tool_call.finished',
      tenant_id: tenant,
      occurred_at: '2026-11-24T10:00:00.012Z',
      data: { ...common(plain), status: 'SUCCESS', error_code: null, error_message: null, finished_at: '2026-11-24T10:00:00.012Z', duration_ms: 12 },
    });
    // Captured payloads travel as the audit trail has them (redacted there); digests never do.
    expect(got[2]!.data).toEqual({ ...common(captured), status: 'STARTED', arguments: { query: 'acme', api_key: '[REDACTED]' } });
    expect(got[3]!.data).toMatchObject({ status: 'ERROR', error_code: 'UPSTREAM_ERROR', error_message: 'tool reported an error', result: { content: [], isError: true } });
    expect(got[4]).toMatchObject({
      type: 'tool_call.denied',
      occurred_at: '2026-11-24T10:00:00.001Z',
      data: { ...common(refused), status: 'DENIED', error_code: 'TOOL_NOT_FOUND', error_message: 'Tool "x" not found', finished_at: '2026-11-24T10:00:00.001Z', duration_ms: 1 },
    });
    for (const e of [got[0], got[1], got[4]]) {
      expect(e!.data).not.toHaveProperty('arguments');
      expect(e!.data).not.toHaveProperty('result');
    }
    expect(JSON.stringify(got)).not.toContain('sha256');
  });

  it('does not announce a record twice when the audit stream delivers it again', async () => {
    const tenant = newId('ten');
    await reading(tenant);
    const f = facts(tenant);
    const record = started(f);
    await publishAuditEvent(client, auditStream, record);
    await waitFor(async () => (await ofTenant(tenant)).length === 1);
    // The same record stored twice on the AUDIT stream (a producer's retry outside the
    // duplicate window): the database skips it, the events stream drops the second copy.
    await jetstream(client.connection).publish(`vmcp.audit.v1.events.${tenant}`, JSON.stringify(record), { msgID: `${record.event_id}-again` });
    await drained();
    expect((await ofTenant(tenant)).map((e) => e.event_id)).toEqual([record.event_id]);
    expect(await verifyAuditChain(client, { tenant_id: tenant })).toMatchObject({ ok: true, checked: 1 });
  });

  it('announces nothing for a tenant that reads no tool-call events, and stores and acknowledges its records', async () => {
    const quiet = newId('ten');
    const loud = newId('ten');
    await reading(loud);
    // The writer's view is live (it answered for `loud`), so `quiet` is known not to read them.
    expect(service.app.get(AuditWriterService).announces(quiet)).toBe(false);
    const f = facts(quiet);
    const g = facts(loud);
    for (const r of [started(f), started(g), finished(f), finished(g)]) await publishAuditEvent(client, auditStream, r);
    await waitFor(async () => (await ofTenant(loud)).length === 2, { what: "the reading tenant's events" });
    await drained();
    expect(await ofTenant(quiet)).toEqual([]);
    expect(await verifyAuditChain(client, { tenant_id: quiet })).toMatchObject({ ok: true, checked: 2 });
    // From its first mark on, its records are announced too.
    await reading(quiet);
    await publishAuditEvent(client, auditStream, started({ ...facts(quiet), execution_id: newId('exe') }));
    await waitFor(async () => (await ofTenant(quiet)).length === 1, { what: 'the newly reading tenant its event' });
  });

  it('redelivers records whose event could not be published, without losing or doubling any', async () => {
    const tenant = newId('ten');
    await reading(tenant);
    // The events stream is gone: records are stored, but not acknowledged until announced.
    await jsm.streams.delete(eventsStream);
    const f = facts(tenant);
    const records = [started(f), finished(f)];
    for (const r of records) await publishAuditEvent(client, auditStream, r);
    // The writer makes the stream again (it is missing) and the redelivered records are announced.
    const got = await waitFor(async () => {
      const list = await ofTenant(tenant).catch(() => []);
      return list.length === 2 ? list : undefined;
    }, { what: 'both events after the stream came back' });
    await drained();
    expect(got.map((e) => e.event_id)).toEqual(records.map((r) => r.event_id));
    expect(await ofTenant(tenant)).toHaveLength(2);
    // Each record is in the chain once, and the chain holds.
    expect(await verifyAuditChain(client, { tenant_id: tenant })).toMatchObject({ ok: true, checked: 2 });
  });
});
