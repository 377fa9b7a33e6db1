import 'reflect-metadata';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { events, policy } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import { DataSource, openDataSource } from '@vmcp/persistence';
import {
  DATABASE_KINDS,
  databaseEnv,
  startInProcessService,
  startNatsServer,
  uniqueName,
  waitFor,
  type InProcessService,
  type NatsServerHandle,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxEventEntity } from '../src/events/outbox-event.entity.js';
import { statusChangedEvent } from '../src/events/status-changed.event.js';
import { PolicyModule } from '../src/policy.module.js';

// Account status changes become events on the events stream: one per real change, with
// the true previous status, and none lost when the stream is away or policy stops
// between commit and publish (transactional outbox).

describe.each(DATABASE_KINDS)('connected-account status events on %s', (kind) => {
  let nats: NatsServerHandle;
  let service: InProcessService;
  let client: Bus;
  let jsm: JetStreamManager;
  let tenant: string;
  const db = databaseEnv(kind);
  const stream = uniqueName('EVENTS_');
  const env = { ...db.env, VMCP_REVOCATIONS_BUCKET: uniqueName('rev_'), VMCP_EVENTS_STREAM: stream };
  const start = () => startInProcessService({ service: 'policy', natsUrl: nats.url, env, module: (core) => PolicyModule.forRoot(core) });

  /** Every event in the stream, in stream order. */
  const stored = async () => {
    const info = await jsm.streams.info(stream).catch(() => undefined);
    const out: Array<{ subject: string; event: events.ConnectedAccountStatusChanged }> = [];
    for (let seq = info?.state.first_seq ?? 1; info && seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq });
      if (m) out.push({ subject: m.subject, event: events.ConnectedAccountStatusChanged.parse(m.json()) });
    }
    return out;
  };
  const of = async (accountId: string) => (await stored()).filter((s) => s.event.data.connected_account_id === accountId);
  const outboxEmpty = async () => (await service.app.get(DataSource).getRepository(OutboxEventEntity).count()) === 0;
  const account = async (identifier: string) =>
    (await client.request(policy.prepareAccount, { tenant_id: tenant, connection_name: 'crm', identifier })).connected_account.id;
  const setStatus = (account_id: string, status: 'ACTIVE' | 'DISCONNECTED' | 'EXPIRED') =>
    client.request(policy.setAccountStatus, { tenant_id: tenant, account_id, status });

  beforeAll(async () => {
    nats = await startNatsServer();
    service = await start();
    client = await Bus.connect({ url: nats.url, name: 'status-events-test', timeoutMs: 3000 });
    jsm = await jetstreamManager(client.connection);
    tenant = (await client.request(policy.createTenant, { name: 'acme' })).tenant.id;
    await client.request(policy.createConnection, { tenant_id: tenant, name: 'crm', connector: 'mcp', auth_type: 'bearer_token', settings: { url: 'http://127.0.0.1:9/mcp' } });
  });

  afterAll(async () => {
    await client?.close();
    await service?.close();
    await nats?.stop();
    await db.drop();
  });

  it('publishes one event per real change, with the true previous status, even when changes race', async () => {
    const id = await account('u1@example.com');
    await setStatus(id, 'ACTIVE');
    await setStatus(id, 'ACTIVE');
    const replies = await Promise.all(Array.from({ length: 5 }, () => setStatus(id, 'DISCONNECTED')));
    expect(replies.every((r) => r.connected_account.status === 'DISCONNECTED')).toBe(true);

    await waitFor(async () => (await of(id)).length >= 2 && outboxEmpty(), { what: 'the events of u1' });
    const got = await of(id);
    expect(got.map((g) => [g.event.data.previous_status, g.event.data.status])).toEqual([
      ['PENDING_AUTH', 'ACTIVE'],
      ['ACTIVE', 'DISCONNECTED'],
    ]);
    expect(got[0]).toEqual({
      subject: `vmcp.events.v1.${tenant}.connected_account.status_changed`,
      event: {
        event_id: expect.stringMatching(/^evt_/),
        type: 'connected_account.status_changed',
        tenant_id: tenant,
        occurred_at: expect.any(String),
        data: { connected_account_id: id, connection_name: 'crm', identifier: 'u1@example.com', previous_status: 'PENDING_AUTH', status: 'ACTIVE' },
      },
    });
  });

  it('reports the accounts of a deleted connection as DISCONNECTED', async () => {
    await client.request(policy.createConnection, { tenant_id: tenant, name: 'gone', connector: 'mcp', auth_type: 'bearer_token', settings: { url: 'http://127.0.0.1:9/mcp' } });
    const prepare = async (identifier: string) =>
      (await client.request(policy.prepareAccount, { tenant_id: tenant, connection_name: 'gone', identifier })).connected_account.id;
    const active = await prepare('g1');
    await setStatus(active, 'ACTIVE');
    const pending = await prepare('g2');
    const done = await prepare('g3');
    await setStatus(done, 'DISCONNECTED');
    await waitFor(async () => (await of(done)).length === 1 && (await outboxEmpty()), { what: 'the events before the delete' });
    const before = (await of(done)).length;
    await client.request(policy.deleteConnection, { tenant_id: tenant, name: 'gone' });
    await waitFor(async () => (await of(active)).length === 2 && (await of(pending)).length === 1 && (await outboxEmpty()), { what: 'the disconnect events' });
    expect((await of(active)).at(-1)!.event.data).toMatchObject({ previous_status: 'ACTIVE', status: 'DISCONNECTED', connection_name: 'gone' });
    expect((await of(pending))[0]!.event.data).toMatchObject({ previous_status: 'PENDING_AUTH', status: 'DISCONNECTED' });
    // An account already disconnected changes nothing, so it gets no second event.
    expect((await of(done)).length).toBe(before);
  });

  it('keeps a committed change’s event until the stream takes it', async () => {
    await jsm.streams.delete(stream);
    const id = await account('u2');
    // The change commits and answers even though its event cannot be published yet.
    expect((await setStatus(id, 'EXPIRED')).connected_account.status).toBe('EXPIRED');
    await waitFor(async () => (await of(id)).length === 1, { what: 'the event once the stream is back', timeoutMs: 15_000 });
    expect((await of(id))[0]!.event.data).toMatchObject({ previous_status: 'PENDING_AUTH', status: 'EXPIRED' });
  });

  it('publishes, after a restart, the events a stopped policy had committed but not published', async () => {
    const id = await account('u3');
    await service.close();
    // What a policy that died right after commit leaves behind: a row in the outbox.
    const ds = await openDataSource(service.core.config, { entities: [OutboxEventEntity], migrations: [] });
    const event = statusChangedEvent({
      tenantId: tenant,
      accountId: id,
      connectionName: 'crm',
      identifier: 'u3',
      previous: 'PENDING_AUTH',
      status: 'ACTIVE',
      occurredAt: new Date().toISOString(),
    });
    await ds.getRepository(OutboxEventEntity).insert({ id: event.event_id, tenant_id: tenant, payload: JSON.stringify(event), created_at: event.occurred_at });
    await ds.destroy();

    service = await start();
    await waitFor(async () => (await of(id)).length === 1 && outboxEmpty(), { what: 'the left-over event' });
    expect((await of(id))[0]!.event).toEqual(event);
  });
});
