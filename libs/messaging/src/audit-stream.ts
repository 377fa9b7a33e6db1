import { jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { context, propagation } from '@opentelemetry/api';
import { audit, VmcpError, type AuditEvent } from '@vmcp/contracts';
import { type Bus, describeZodError } from './bus.js';

/** How long JetStream remembers event ids to drop re-published duplicates. */
const DUPLICATE_WINDOW_NS = 2 * 60 * 1_000_000_000;
/** A "started" record must be durable before the call runs; this bounds the wait. */
const PUBLISH_TIMEOUT_MS = 2000;

const clients = new WeakMap<Bus, JetStreamClient>();

function jsFor(bus: Bus): JetStreamClient {
  let js = clients.get(bus);
  if (!js) {
    js = jetstream(bus.connection, { timeout: PUBLISH_TIMEOUT_MS });
    clients.set(bus, js);
  }
  return js;
}

/** Creates the audit stream, or brings an existing one to the expected configuration. */
export async function ensureAuditStream(bus: Bus, streamName: string): Promise<void> {
  const jsm = await jetstreamManager(bus.connection);
  const config = {
    subjects: [`${audit.AUDIT_EVENTS_SUBJECT_PREFIX}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    duplicate_window: DUPLICATE_WINDOW_NS,
  };
  try {
    await jsm.streams.info(streamName);
    await jsm.streams.update(streamName, config);
  } catch (err) {
    if (!/not found/i.test((err as Error).message)) throw err;
    await jsm.streams.add({ name: streamName, ...config });
  }
}

/**
 * Publishes one audit event and resolves once JetStream has stored it. Re-publishing
 * the same event id within the duplicate window is a no-op, so retries are safe.
 */
export async function publishAuditEvent(bus: Bus, streamName: string, event: AuditEvent): Promise<void> {
  const parsed = audit.AuditEvent.safeParse(event);
  if (!parsed.success) throw new VmcpError('INTERNAL', `invalid audit event: ${describeZodError(parsed.error)}`);
  // The record carries the call's trace context, so the audit write joins the call's trace.
  const h = natsHeaders();
  propagation.inject(context.active(), h, { set: (carrier, k, v) => carrier.set(k, v) });
  try {
    await jsFor(bus).publish(audit.auditEventSubject(event.tenant_id), JSON.stringify(parsed.data), {
      msgID: event.event_id,
      headers: h,
      expect: { streamName },
      timeout: PUBLISH_TIMEOUT_MS,
    });
  } catch (err) {
    throw new VmcpError('UNAVAILABLE', `audit log unavailable: ${(err as Error).message.slice(0, 200)}`);
  }
}
