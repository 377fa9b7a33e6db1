// Audit ingest into PostgreSQL, and what "audit before effect" adds to every call.
// 1. N events (started + finished of N/2 calls, over a few tenants) are published to a fresh
//    AUDIT stream first; then the audit service (in process, the built module) drains it:
//    events/s until every call's entry is complete, against the 10,000 events/s target.
// 2. Latency of the edge's wait before each call: a JetStream publish acknowledged by the
//    file-backed AUDIT stream (publishAuditEvent), next to a plain NATS request/reply.
//   npm run bench            (runs every benchmark)
//   BENCH_AUDIT_EVENTS=100000 node bench/audit-ingest.bench.mjs
import 'reflect-metadata';
import { jetstream } from '@nats-io/jetstream';
import { newId } from '@vmcp/contracts';
import { Bus, ensureAuditStream, publishAuditEvent } from '@vmcp/messaging';
import { databaseEnv, startInProcessService, startNatsServer, TEST_DATABASE_URL, uniqueName } from '@vmcp/testing';
import pg from 'pg';
import { AuditModule } from '../apps/audit/dist/audit.module.js';
import { AuditWriterService } from '../apps/audit/dist/ingest/audit-writer.service.js';

const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 50_000);
const TENANTS = 8;
const TARGET_EVENTS_PER_S = 10_000;
const LATENCY_SAMPLES = Number(process.env.BENCH_AUDIT_SAMPLES ?? 3000);
const PUBLISH_WINDOW = 2000;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The events of one call, as the edge publishes them. */
function callEvents(tenant, i) {
  const started = new Date(Date.UTC(2026, 10, 1) + i).toISOString();
  const facts = {
    execution_id: newId('exe'),
    tenant_id: tenant,
    config_id: newId('cfg'),
    connection_name: 'upstream',
    connector: 'mcp',
    connected_account_id: newId('ca'),
    identifier: `user-${i % 100}`,
    tool_name: 'echo',
    source: 'mcp',
    agent_run_id: null,
    started_at: started,
  };
  return [
    { ...facts, type: 'started', event_id: newId('evt') },
    { ...facts, type: 'finished', event_id: newId('evt'), finished_at: started, duration_ms: 1, status: 'SUCCESS', error_code: null, error_message: null },
  ];
}

async function latency(label, once) {
  for (let i = 0; i < 300; i++) await once(i);
  const samples = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const t0 = performance.now();
    await once(i);
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  console.log(`${label.padEnd(52)} p50 ${percentile(samples, 50).toFixed(3)} ms   p99 ${percentile(samples, 99).toFixed(3)} ms`);
  return samples;
}

const nats = await startNatsServer();
const db = databaseEnv('postgres');
const stream = uniqueName('AUDIT_BENCH_');
const bus = await Bus.connect({ url: nats.url, name: 'bench-edge', timeoutMs: 5000 });
const responder = await Bus.connect({ url: nats.url, name: 'bench-responder', timeoutMs: 5000 });
let service;
const sql = new pg.Client({ connectionString: TEST_DATABASE_URL });
await sql.connect();
try {
  await ensureAuditStream(bus, stream, { maxAgeMs: 3_600_000 });
  const tenants = Array.from({ length: TENANTS }, () => newId('ten'));
  const calls = Math.ceil(EVENTS / 2);

  // Published as fast as JetStream acknowledges, a window of publishes in flight.
  const js = jetstream(bus.connection, { timeout: 30_000 });
  const t0 = performance.now();
  let inFlight = [];
  for (let i = 0; i < calls; i++) {
    for (const e of callEvents(tenants[i % TENANTS], i)) {
      inFlight.push(js.publish(`vmcp.audit.v1.events.${e.tenant_id}`, JSON.stringify(e), { msgID: e.event_id, expect: { streamName: stream } }));
    }
    if (inFlight.length >= PUBLISH_WINDOW) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
  const published = calls * 2;
  console.log(`published ${published} events in ${((performance.now() - t0) / 1000).toFixed(1)} s (${Math.round(published / ((performance.now() - t0) / 1000))} events/s into JetStream)`);

  // The audit service as in production (same module, same writer), started on the full stream.
  const started = performance.now();
  service = await startInProcessService({
    service: 'audit',
    natsUrl: nats.url,
    env: { ...db.env, VMCP_AUDIT_STREAM: stream },
    module: (core) => AuditModule.forRoot(core),
    beforeListen: (app) => app.get(AuditWriterService).start(),
  });
  const ready = performance.now();
  await sql.query(`SET search_path TO "${db.schemaPrefix}_audit"`);
  const complete = async () => Number((await sql.query(`SELECT count(*) AS n FROM tool_call_logs WHERE status = 'SUCCESS'`)).rows[0].n);
  const marks = [];
  for (;;) {
    const n = await complete();
    marks.push({ at: performance.now(), n });
    if (n >= calls) break;
    if (performance.now() - started > 600_000) throw new Error(`only ${n} of ${calls} entries after 10 minutes`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const done = performance.now();
  // Sustained: from 10 % to 90 % of the entries, away from start-up and the tail.
  const at = (share) => marks.find((m) => m.n >= share * calls);
  const [p10, p90] = [at(0.1), at(0.9)];
  const sustained = ((p90.n - p10.n) * 2) / ((p90.at - p10.at) / 1000);
  const overall = published / ((done - ready) / 1000);
  console.log(`audit ingest into PostgreSQL, ${published} events, ${TENANTS} tenants, ${process.version}`);
  console.log(`  sustained (10-90 %)  ${String(Math.round(sustained)).padStart(7)} events/s   target ${TARGET_EVENTS_PER_S} events/s   ${sustained >= TARGET_EVENTS_PER_S ? 'met' : 'NOT met'}`);
  console.log(`  whole drain          ${String(Math.round(overall)).padStart(7)} events/s   (${((done - ready) / 1000).toFixed(1)} s after the service was up; start-up ${((ready - started) / 1000).toFixed(1)} s)`);

  // What the edge waits for before each call, vs one plain request/reply.
  responder.connection.subscribe('bench.echo', { callback: (_e, msg) => msg.respond(msg.data) });
  await responder.connection.flush();
  const payload = JSON.stringify(callEvents(tenants[0], 0)[0]);
  console.log(`\nlatency, sequential, ${LATENCY_SAMPLES} samples (audit writer consuming meanwhile)`);
  const rr = await latency('plain NATS request/reply (nats.js)', () => bus.connection.request('bench.echo', payload, { timeout: 5000 }));
  const ack = await latency('audit "started" publish + JetStream ack (edge path)', (i) =>
    publishAuditEvent(bus, stream, callEvents(tenants[i % TENANTS], i)[0]),
  );
  console.log(`  audit before effect adds p50 ${percentile(ack, 50).toFixed(3)} ms per call (${(percentile(ack, 50) / percentile(rr, 50)).toFixed(2)}x a request/reply)`);
} finally {
  await sql.end().catch(() => undefined);
  await service?.close().catch(() => undefined);
  await responder.close();
  await bus.close();
  await nats.stop();
  await db.drop();
}
