import 'reflect-metadata';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { VmcpConfig } from '@vmcp/config';
import { events, newId, type VmcpEvent } from '@vmcp/contracts';
import { Bus, ensureEventsStream, publishEvent } from '@vmcp/messaging';
import { createLogger } from '@vmcp/telemetry';
import { startNatsServer, uniqueName, waitFor, type NatsServerHandle } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventFeedService, type EventFeedOptions } from '../src/bus-api/event-feed.service.js';

// The bus API's event feed against real JetStream (a nats-server of this file's own: every
// events stream takes `vmcp.events.v1.>`, and JetStream refuses a second stream over the same
// subjects, so one left on a shared server by anything else would stop this file):
// named durable cursors per tenant, resumed after downtime with every missed event exactly
// once, redelivery of what was not acknowledged, and no way into another tenant's events.

const REDELIVER_MS = 2000;

describe('event feed', () => {
  const stream = uniqueName('EVENTS_');
  const config = { eventsStream: stream, busTimeoutMs: 3000 } as VmcpConfig;
  const logger = createLogger('edge', 'silent');
  const buses: Bus[] = [];
  let producer: Bus;
  let nats: NatsServerHandle;

  const connect = async () => {
    const bus = await Bus.connect({ url: nats.url, name: 'event-feed-test', timeoutMs: 3000 });
    buses.push(bus);
    return bus;
  };
  /** An edge replica's feed, on its own connection. */
  const feedOn = (bus: Bus, options: EventFeedOptions = {}) => new EventFeedService(config, bus, logger, { redeliverAfterMs: REDELIVER_MS, ...options });

  const statusChanged = (tenant: string, n: number): VmcpEvent => ({
    event_id: newId('evt'),
    type: 'connected_account.status_changed',
    tenant_id: tenant,
    occurred_at: new Date().toISOString(),
    data: { connected_account_id: newId('ca'), connection_name: 'crm', identifier: `user-${n}`, previous_status: 'PENDING_AUTH', status: 'ACTIVE' },
  });
  const toolCallFinished = (tenant: string): VmcpEvent => ({
    event_id: newId('evt'),
    type: 'tool_call.finished',
    tenant_id: tenant,
    occurred_at: new Date().toISOString(),
    data: {
      execution_id: newId('exe'),
      config_id: newId('cfg'),
      connection_name: 'crm',
      connector: 'mcp',
      connected_account_id: newId('ca'),
      identifier: 'alice',
      tool_name: 'lookup',
      source: 'api',
      agent_run_id: null,
      started_at: new Date().toISOString(),
      status: 'SUCCESS',
      error_code: null,
      error_message: null,
      finished_at: new Date().toISOString(),
      duration_ms: 3,
    },
  });
  const publish = async (list: VmcpEvent[]) => {
    for (const e of list) await publishEvent(producer, stream, e);
    return list.map((e) => e.event_id);
  };
  const pull = (feed: EventFeedService, tenant: string, consumer: string, over: Partial<{ types: string[]; start: 'all' | 'new'; max_events: number; wait_ms: number }> = {}) =>
    feed.pull(tenant, { consumer, start: 'all', max_events: 64, wait_ms: 0, ...over });
  const ackAll = (feed: EventFeedService, tenant: string, consumer: string, got: Array<{ ack_id: string }>) =>
    feed.ack(tenant, { consumer, ack_ids: got.map((e) => e.ack_id) });

  beforeAll(async () => {
    nats = await startNatsServer();
    producer = await connect();
    await ensureEventsStream(producer, stream);
  });

  afterAll(async () => {
    await (await jetstreamManager(producer.connection)).streams.delete(stream).catch(() => undefined);
    await Promise.allSettled(buses.map((b) => b.close()));
    await nats?.stop();
  });

  it('resumes a cursor after downtime with every missed event exactly once, in order', async () => {
    const tenant = newId('ten');
    const other = newId('ten');
    const first = await publish([1, 2, 3, 4, 5].map((n) => statusChanged(tenant, n)));

    const replicaA = await connect();
    const feedA = feedOn(replicaA);
    const got1 = await pull(feedA, tenant, 'billing', { max_events: 3 });
    expect(got1.events.map((e) => e.event.event_id)).toEqual(first.slice(0, 3));
    expect(got1.events.every((e) => e.deliveries === 1)).toBe(true);
    expect(got1.redeliver_after_ms).toBe(REDELIVER_MS);
    expect((await ackAll(feedA, tenant, 'billing', got1.events)).acked).toBe(3);

    // The reader (and the replica that served it) goes away; events keep coming, some of another tenant.
    await replicaA.close();
    const later = await publish([6, 7, 8].map((n) => statusChanged(tenant, n)));
    await publish([statusChanged(other, 1)]);

    const feedB = feedOn(await connect());
    const got2 = await pull(feedB, tenant, 'billing');
    expect(got2.events.map((e) => e.event.event_id)).toEqual([...first.slice(3), ...later]);
    expect(got2.events.every((e) => e.deliveries === 1 && e.event.tenant_id === tenant)).toBe(true);
    const seqs = [...got1.events, ...got2.events].map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(8);
    expect((await ackAll(feedB, tenant, 'billing', got2.events)).acked).toBe(5);

    // Nothing is left, now or after the redelivery time has passed for anything outstanding.
    expect((await pull(feedB, tenant, 'billing')).events).toEqual([]);
    const next = await publish([statusChanged(tenant, 9)]);
    expect((await pull(feedB, tenant, 'billing', { wait_ms: 5000 })).events.map((e) => e.event.event_id)).toEqual(next);
  });

  it('hands out unacknowledged events again after the redelivery time, and acknowledged ones never', async () => {
    const tenant = newId('ten');
    const feed = feedOn(await connect());
    const ids = await publish([1, 2, 3].map((n) => statusChanged(tenant, n)));
    const got = await pull(feed, tenant, 'crm-sync');
    expect(got.events.map((e) => e.event.event_id)).toEqual(ids);
    expect((await ackAll(feed, tenant, 'crm-sync', got.events.slice(0, 1))).acked).toBe(1);
    // Still the reader's, within the redelivery time.
    expect((await pull(feed, tenant, 'crm-sync')).events).toEqual([]);

    const again = await waitFor(
      async () => {
        const r = await pull(feed, tenant, 'crm-sync', { wait_ms: 200 });
        return r.events.length ? r.events : undefined;
      },
      { what: 'the unacknowledged events again' },
    );
    expect(again.map((e) => e.event.event_id)).toEqual(ids.slice(1));
    expect(again.map((e) => e.seq)).toEqual(got.events.slice(1).map((e) => e.seq));
    expect(again.every((e) => e.deliveries === 2)).toBe(true);
    expect((await ackAll(feed, tenant, 'crm-sync', again)).acked).toBe(2);
    expect((await pull(feed, tenant, 'crm-sync')).events).toEqual([]);
  });

  it('waits for the first event when none is pending', async () => {
    const tenant = newId('ten');
    const feed = feedOn(await connect());
    // A cursor made at "new" sees only what comes after it.
    await publish([statusChanged(tenant, 0)]);
    expect((await pull(feed, tenant, 'live', { start: 'new' })).events).toEqual([]);
    const waiting = pull(feed, tenant, 'live', { start: 'new', wait_ms: 20_000 });
    const ids = await publish([statusChanged(tenant, 1)]);
    expect((await waiting).events.map((e) => e.event.event_id)).toEqual(ids);
  });

  it("never returns or acknowledges another tenant's events, and refuses forged ack ids", async () => {
    const alice = newId('ten');
    const mallory = newId('ten');
    const feed = feedOn(await connect());
    const ids = await publish([statusChanged(alice, 1), statusChanged(alice, 2)]);
    await publish([statusChanged(mallory, 1)]);
    // The same cursor name in two tenants is two cursors.
    const own = await pull(feed, alice, 'billing');
    expect(own.events.map((e) => e.event.event_id)).toEqual(ids);
    const theirs = await pull(feed, mallory, 'billing');
    expect(theirs.events.map((e) => e.event.tenant_id)).toEqual([mallory]);

    const forged = (subject: string) => Buffer.from(subject).toString('base64url');
    const attempts = [
      ...own.events.map((e) => e.ack_id), // another tenant's real ack ids
      forged(`$JS.ACK.${stream}.webhook-delivery.1.1.1.1.0`),
      forged(`$JS.ACK.${stream}.feed_${alice}_billing.1.1.1.1.0`),
      forged(`$JS.ACK.OTHER.feed_${mallory}_billing.1.1.1.1.0`),
      forged(`$JS.ACK.${stream}.feed_${mallory}_billing.>`),
      forged('vmcp.events.v1.anything'),
      'not-an-ack-id',
    ];
    for (const ackId of attempts) {
      await expect(feed.ack(mallory, { consumer: 'billing', ack_ids: [theirs.events[0]!.ack_id, ackId] }), ackId).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    // Another cursor of the same tenant is another cursor, too.
    await expect(feed.ack(alice, { consumer: 'crm', ack_ids: [own.events[0]!.ack_id] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });

    // Nothing was acknowledged by those: alice's events come back to alice after the redelivery time.
    const again = await waitFor(
      async () => {
        const r = await pull(feed, alice, 'billing', { wait_ms: 200 });
        return r.events.length === 2 ? r.events : undefined;
      },
      { what: "alice's events again" },
    );
    expect(again.map((e) => e.event.event_id)).toEqual(ids);
    expect((await ackAll(feed, alice, 'billing', again)).acked).toBe(2);
  });

  it('filters a cursor by event type, fixed when it is made', async () => {
    const tenant = newId('ten');
    const feed = feedOn(await connect());
    const [, finished] = await publish([statusChanged(tenant, 1), toolCallFinished(tenant), statusChanged(tenant, 2)]);
    const got = await pull(feed, tenant, 'calls', { types: ['tool_call.finished'] });
    expect(got.events.map((e) => [e.event.type, e.event.event_id])).toEqual([['tool_call.finished', finished]]);

    await expect(pull(feed, tenant, 'calls')).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringContaining('tool_call.finished') });
    await expect(pull(feed, tenant, 'calls', { types: ['tool_call.denied'] })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    await expect(pull(feed, tenant, 'typo', { types: ['tool_call.done'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // Several types need filter_subjects (nats-server 2.10+); an older server says so.
    const several = await pull(feed, tenant, 'several', { types: ['tool_call.finished', 'connected_account.status_changed'] }).catch((e: { code: string }) => e);
    if ('code' in several) expect(several).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('2.10') });
    else expect(several.events).toHaveLength(3);
  });

  it('makes each cursor a durable consumer that redelivers without limit and expires when abandoned', async () => {
    const tenant = newId('ten');
    const feed = feedOn(await connect(), { inactiveAfterMs: 3_600_000 });
    await pull(feed, tenant, 'audit-export');
    const info = await (await jetstreamManager(producer.connection)).consumers.info(stream, `feed_${tenant}_audit-export`);
    expect(info.config).toMatchObject({
      durable_name: `feed_${tenant}_audit-export`,
      filter_subject: `${events.EVENTS_SUBJECT_PREFIX}.${tenant}.>`,
      ack_policy: 'explicit',
      ack_wait: REDELIVER_MS * 1_000_000,
      max_deliver: -1,
      inactive_threshold: 3_600_000 * 1_000_000,
    });
  });

  it('caps the cursors of a tenant, and deletes them', async () => {
    const tenant = newId('ten');
    const other = newId('ten');
    const feed = feedOn(await connect(), { maxCursorsPerTenant: 3 });
    for (const name of ['a', 'b', 'c']) await pull(feed, tenant, name);
    await expect(pull(feed, tenant, 'd')).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    // An existing cursor still works, and other tenants have their own allowance.
    await pull(feed, tenant, 'a');
    await pull(feed, other, 'd');

    expect(await feed.deleteConsumer(tenant, { consumer: 'b' })).toEqual({ consumer: 'b', deleted: true });
    await expect(feed.deleteConsumer(tenant, { consumer: 'b' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(feed.deleteConsumer(tenant, { consumer: 'never-made' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await pull(feed, tenant, 'd');

    // An ack for a cursor deleted meanwhile finds nobody to acknowledge.
    await publish([statusChanged(tenant, 1)]);
    const got = await pull(feed, tenant, 'c');
    expect(got.events).toHaveLength(1);
    await feed.deleteConsumer(tenant, { consumer: 'c' });
    await expect(ackAll(feed, tenant, 'c', got.events)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('skips a malformed message instead of stopping the cursor', async () => {
    const tenant = newId('ten');
    const feed = feedOn(await connect());
    await jetstream(producer.connection).publish(`${events.EVENTS_SUBJECT_PREFIX}.${tenant}.connected_account.status_changed`, 'not json');
    // A well-formed event of another tenant, under this tenant's subject.
    await jetstream(producer.connection).publish(`${events.EVENTS_SUBJECT_PREFIX}.${tenant}.connected_account.status_changed`, JSON.stringify(statusChanged(newId('ten'), 1)));
    const ids = await publish([statusChanged(tenant, 1)]);
    const got = await pull(feed, tenant, 'robust');
    expect(got.events.map((e) => e.event.event_id)).toEqual(ids);
    expect((await ackAll(feed, tenant, 'robust', got.events)).acked).toBe(1);
    // The skipped messages are terminated, not redelivered.
    const info = await (await jetstreamManager(producer.connection)).consumers.info(stream, `feed_${tenant}_robust`);
    expect(info.num_ack_pending).toBe(0);
  });
});
