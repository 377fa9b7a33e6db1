import 'reflect-metadata';
import type { INestMicroservice } from '@nestjs/common';
import { jetstream } from '@nats-io/jetstream';
import { loadConfig } from '@vmcp/config';
import { audit, newId, type AuditEvent } from '@vmcp/contracts';
import { Bus, publishAuditEvent, verifyAuditChain } from '@vmcp/messaging';
import { DataSource } from '@vmcp/persistence';
import { createBusServiceApp } from '@vmcp/runtime';
import { createLogger, startTelemetry } from '@vmcp/telemetry';
import {
  DATABASE_KINDS,
  databaseEnv,
  NATS_PERMISSIONS_FILE,
  natsUsers,
  startNatsServer,
  waitFor,
  type NatsServerHandle,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditModule } from '../src/audit.module.js';
import { AuditRecordEntity } from '../src/chain/chain.entities.js';
import { runAuditCli } from '../src/cli/audit-cli.js';
import { AuditWriterService } from '../src/ingest/audit-writer.service.js';

// The tamper-evident trail on both databases, under the production NATS permission file:
// the edge's user publishes events and asks for verification and settings, the audit
// service runs as its own user (one replica, two on Postgres), and so does the operators'
// command. Tampering is done straight in the database.

const DAY = 86_400_000;

describe.each(DATABASE_KINDS)('audit hash chain on %s', (kind) => {
  const creds = natsUsers();
  const db = databaseEnv(kind);
  // The name the permission file grants (each run has its own nats-server).
  const stream = 'AUDIT';
  let nats: NatsServerHandle;
  let env: Record<string, string>;
  const apps: INestMicroservice[] = [];
  const buses: Bus[] = [];
  let edge: Bus;
  let ds: DataSource;

  const connect = async (user: 'edge' | 'audit', name: string) => {
    const bus = await Bus.connect({ url: nats.url, name, user, password: creds.users[user]!.password, inboxPrefix: creds.users[user]!.inboxPrefix, timeoutMs: 5000 });
    buses.push(bus);
    return bus;
  };

  /** One audit replica as production wires it, under the audit user. */
  const startReplica = async () => {
    const config = loadConfig('audit', env);
    const bus = await connect('audit', `vmcp-audit-${apps.length}`);
    const core = { config, bus, telemetry: startTelemetry(config), logger: createLogger('audit', 'silent') };
    const app = await createBusServiceApp(core, { service: 'audit', module: (c) => AuditModule.forRoot(c), beforeListen: (a) => a.get(AuditWriterService).start() });
    apps.push(app);
    return app;
  };

  const event = (tenant: string, at = new Date(), over: Partial<AuditEvent> = {}): AuditEvent =>
    ({
      type: 'started',
      event_id: newId('evt'),
      execution_id: newId('exe'),
      tenant_id: tenant,
      config_id: null,
      connection_name: 'crm',
      connector: 'mcp',
      connected_account_id: null,
      identifier: 'alice',
      tool_name: 'lookup',
      source: 'mcp',
      agent_run_id: null,
      started_at: at.toISOString(),
      ...over,
    }) as AuditEvent;

  const publishAll = async (events: AuditEvent[]) => {
    for (const e of events) await publishAuditEvent(edge, stream, e);
  };
  const verify = (tenant: string, extra: { from_seq?: number; to_seq?: number; max_records?: number } = {}) => verifyAuditChain(edge, { tenant_id: tenant, ...extra });
  const stored = (tenant: string, n: number) => waitFor(async () => ((await verify(tenant)).checked === n ? true : undefined), { what: `${n} records of ${tenant}` });
  const records = () => ds.getRepository(AuditRecordEntity);
  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAuditCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, { env });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  /** A tenant with a chain of `n` records, stored. */
  const tenantWith = async (n: number) => {
    const tenant = newId('ten');
    await publishAll(Array.from({ length: n }, () => event(tenant)));
    await stored(tenant, n);
    return tenant;
  };

  beforeAll(async () => {
    nats = await startNatsServer({ configFile: NATS_PERMISSIONS_FILE, env: creds.serverEnv });
    env = {
      ...db.env,
      NODE_ENV: 'test',
      NATS_URL: nats.url,
      NATS_USER: 'audit',
      NATS_PASSWORD: creds.users.audit!.password,
      VMCP_AUDIT_STREAM: stream,
      VMCP_AUDIT_PURGE_INTERVAL_MS: '200',
    };
    const app = await startReplica();
    ds = app.get(DataSource);
    edge = await connect('edge', 'test-edge');
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.close();
    await Promise.allSettled(buses.map((b) => b.close()));
    await nats?.stop();
    await db.drop();
  });

  it('chains every tenant’s records from the genesis hash, and redelivery changes nothing', async () => {
    const tenant = newId('ten');
    const events = Array.from({ length: 7 }, (_, i) => event(tenant, new Date(), { identifier: `user-${i}` }));
    await publishAll(events);
    const first = await waitFor(async () => {
      const v = await verify(tenant);
      return v.checked === 7 ? v : undefined;
    });
    expect(first).toMatchObject({ ok: true, checked: 7, first_seq: 1, last_seq: 7, anchor_seq: 0 });
    expect(first.last_hash).toMatch(/^[0-9a-f]{64}$/);

    // The same events again, past JetStream's duplicate window (other message ids): stored once.
    const js = jetstream(edge.connection);
    for (const e of [events[2]!, events[6]!, events[0]!]) await js.publish(audit.auditEventSubject(tenant), JSON.stringify(e), { msgID: newId('evt') });
    const marker = event(tenant);
    await publishAuditEvent(edge, stream, marker);
    await stored(tenant, 8);
    expect(await records().countBy({ tenant_id: tenant })).toBe(8);
    expect((await records().findOneByOrFail({ tenant_id: tenant, seq: 8 })).event_id).toBe(marker.event_id);
    expect(await verify(tenant)).toMatchObject({ ok: true, checked: 8, last_seq: 8 });

    // Walking in small steps gives the same answer; a sub-range starts from its predecessor's hash.
    expect(await verify(tenant, { max_records: 3 })).toMatchObject({ ok: true, checked: 8, first_seq: 1, last_seq: 8 });
    expect(await verify(tenant, { from_seq: 3, to_seq: 5 })).toMatchObject({ ok: true, checked: 3, first_seq: 3, last_seq: 5 });
    expect(await verify(newId('ten'))).toEqual({ ok: true, checked: 0, first_seq: null, last_seq: null, last_hash: null, anchor_seq: 0 });
  });

  it('catches an edited, a deleted and a reordered record at the first broken link', async () => {
    const [edited, deleted, reordered, truncated] = await Promise.all([tenantWith(6), tenantWith(6), tenantWith(6), tenantWith(6)]);

    const row = await records().findOneByOrFail({ tenant_id: edited, seq: 4 });
    await records().update({ tenant_id: edited, seq: 4 }, { record: row.record.replace('"alice"', '"mallory"') });
    await records().delete({ tenant_id: deleted, seq: 3 });
    // Swap the positions of records 2 and 5 (through a free number: seq is part of the key).
    const move = (from: number, to: number) =>
      ds.createQueryBuilder().update(AuditRecordEntity).set({ seq: to }).where('tenant_id = :t AND seq = :s', { t: reordered, s: from }).execute();
    await move(2, 1_000_000);
    await move(5, 2);
    await move(1_000_000, 5);
    // The newest records gone: the head still remembers them.
    await records().delete({ tenant_id: truncated, seq: 6 });

    expect(await verify(edited)).toMatchObject({ ok: false, checked: 3, first_broken: { seq: 4, reason: 'hash_mismatch', event_id: row.event_id } });
    expect(await verify(deleted)).toMatchObject({ ok: false, checked: 2, first_broken: { seq: 3, reason: 'missing' } });
    expect(await verify(reordered)).toMatchObject({ ok: false, checked: 1, first_broken: { seq: 2, reason: 'reordered' } });
    expect(await verify(truncated)).toMatchObject({ ok: false, checked: 5, first_broken: { seq: 6, reason: 'missing' } });
    // Found in whichever step of a long walk the break falls.
    expect(await verify(edited, { max_records: 2 })).toMatchObject({ ok: false, checked: 3, first_broken: { seq: 4, reason: 'hash_mismatch' } });
    // A range that ends before the break verifies.
    expect(await verify(edited, { to_seq: 3 })).toMatchObject({ ok: true, checked: 3 });

    // The operators' command, as the audit service's own NATS user.
    const broken = await cli('verify', '--tenant', deleted, '--json');
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.out)).toMatchObject({ tenant_id: deleted, ok: false, first_broken: { seq: 3, reason: 'missing' } });
    const text = await cli('verify', '--tenant', reordered);
    expect(text).toMatchObject({ code: 1 });
    expect(text.out).toContain('BROKEN at record 2: reordered');
    const fine = await cli('verify', '--tenant', edited, '--from', '1', '--to', '3');
    expect(fine.code).toBe(0);
    expect(fine.out).toMatch(/OK, 3 checked \(records 1\.\.3\)/);
    expect((await cli('verify', '--tenant', 'nope')).code).toBe(2);
  });

  it('keeps one unforked chain per tenant while two replicas append concurrently', async () => {
    if (kind === 'sqlite') return; // SQLite has one writer; replicas share a database only on Postgres.
    const second = await startReplica();
    const tenants = [newId('ten'), newId('ten'), newId('ten')];
    const events = Array.from({ length: 240 }, (_, i) => event(tenants[i % 3]!));
    await Promise.all([0, 1, 2, 3].map((lane) => publishAll(events.filter((_, i) => i % 4 === lane))));
    for (const t of tenants) {
      await stored(t, 80);
      expect(await verify(t)).toMatchObject({ ok: true, checked: 80, first_seq: 1, last_seq: 80 });
    }
    // Back to one replica: the tests below expect records chained in publish order.
    await second.close();
    apps.splice(apps.indexOf(second), 1);
  });

  it('keeps entries 90 days by default or as the tenant sets, and the chain verifies from the purge anchor', async () => {
    const now = Date.now();
    const own = newId('ten');
    expect(await edge.request(audit.getSettings, { tenant_id: own })).toEqual({ settings: { retention_days: 90, updated_at: null } });
    expect((await edge.request(audit.putSettings, { tenant_id: own, retention_days: 30 })).settings).toMatchObject({ retention_days: 30 });
    expect((await edge.request(audit.getSettings, { tenant_id: own })).settings.retention_days).toBe(30);
    await expect(edge.request(audit.putSettings, { tenant_id: own, retention_days: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(edge.request(audit.putSettings, { tenant_id: own, retention_days: 3651 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });

    // 40 and 31 days old: past 30 days; then 29 days old and new. Purged as soon as stored.
    const old = [40, 31].map((d) => event(own, new Date(now - d * DAY)));
    const kept = [29, 0, 0].map((d) => event(own, new Date(now - d * DAY)));
    await publishAll([...old, ...kept]);
    const after = await waitFor(async () => {
      const v = await verify(own);
      return v.anchor_seq === 2 && v.checked === 3 ? v : undefined;
    }, { what: 'the two old records purged' });
    expect(after).toMatchObject({ ok: true, first_seq: 3, last_seq: 5 });
    const logs = await edge.request(audit.listToolCallLogs, { tenant_id: own, page_size: 200 });
    expect(logs.tool_call_logs.map((l) => l.execution_id).sort()).toEqual(kept.map((e) => e.execution_id).sort());

    // Default 90 days; and a record is purged only once every record before it is old too.
    const dflt = newId('ten');
    await publishAll([event(dflt, new Date(now - 100 * DAY)), event(dflt, new Date(now - 80 * DAY)), event(dflt, new Date(now - 120 * DAY))]);
    const v = await waitFor(async () => {
      const r = await verify(dflt);
      return r.anchor_seq === 1 && r.checked === 2 ? r : undefined;
    }, { what: 'the 100-day-old record purged' });
    expect(v).toMatchObject({ ok: true, first_seq: 2, last_seq: 3 });

    // Tampering with what is left is still caught.
    const row = await records().findOneByOrFail({ tenant_id: own, seq: 4 });
    await records().update({ tenant_id: own, seq: 4 }, { record: row.record.replace('"lookup"', '"delete_all"') });
    expect(await verify(own)).toMatchObject({ ok: false, checked: 1, anchor_seq: 2, first_broken: { seq: 4, reason: 'hash_mismatch' } });
    // A deleted oldest kept record is a gap right after the anchor.
    await records().delete({ tenant_id: dflt, seq: 2 });
    expect(await verify(dflt)).toMatchObject({ ok: false, checked: 0, first_broken: { seq: 2, reason: 'missing' } });
  });

  it('stores payload digests, captured payloads only when sent, and filters denials by reason', async () => {
    const tenant = newId('ten');
    const sha = (c: string) => c.repeat(64);
    const plain = event(tenant, new Date(), { arguments_size: 12, arguments_sha256: sha('a') } as Partial<AuditEvent>);
    const captured = event(tenant, new Date(), { arguments_size: 20, arguments_sha256: sha('b'), arguments: { q: 'x', password: '[REDACTED]' } } as Partial<AuditEvent>);
    const denied = (code: 'TOOL_NOT_FOUND' | 'INVALID_ARGUMENT') =>
      ({ ...event(tenant), type: 'denied', finished_at: new Date().toISOString(), error_code: code, error_message: 'refused', duration_ms: 1 }) as AuditEvent;
    await publishAll([plain, captured, denied('TOOL_NOT_FOUND'), denied('INVALID_ARGUMENT'), denied('TOOL_NOT_FOUND')]);
    await stored(tenant, 5);
    const one = (await edge.request(audit.getToolCallLog, { tenant_id: tenant, execution_id: plain.execution_id })).tool_call_log;
    expect(one).toMatchObject({ arguments_size: 12, arguments_sha256: sha('a'), result_size: null, result_sha256: null });
    expect(one).not.toHaveProperty('arguments');
    expect(one).not.toHaveProperty('result');
    const two = (await edge.request(audit.getToolCallLog, { tenant_id: tenant, execution_id: captured.execution_id })).tool_call_log;
    expect(two.arguments).toEqual({ q: 'x', password: '[REDACTED]' });

    const refused = await edge.request(audit.listToolCallLogs, { tenant_id: tenant, status: 'DENIED', error_code: 'TOOL_NOT_FOUND' });
    expect(refused.tool_call_logs).toHaveLength(2);
    expect(refused.tool_call_logs.every((l) => l.status === 'DENIED' && l.error_code === 'TOOL_NOT_FOUND')).toBe(true);
    await expect(edge.request(audit.listToolCallLogs, { tenant_id: tenant, error_code: 'NOPE' as 'INTERNAL' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
