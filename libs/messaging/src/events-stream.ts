import { jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { context, propagation } from '@opentelemetry/api';
import { events, VmcpError, type VmcpEvent } from '@vmcp/contracts';
import { type Bus, describeZodError } from './bus.js';

/** How long JetStream remembers event ids to drop re-published duplicates. */
const DUPLICATE_WINDOW_NS = 2 * 60 * 1_000_000_000;
/** Events are kept this long whatever their consumers did: longer than any webhook retry schedule. */
export const EVENTS_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
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

/**
 * Creates the events stream, or brings an existing one to the expected configuration.
 * Limits retention, not work-queue: webhook delivery is one consumer among possibly many.
 */
export async function ensureEventsStream(bus: Bus, streamName: string): Promise<void> {
  const jsm = await jetstreamManager(bus.connection);
  const config = {
    subjects: [`${events.EVENTS_SUBJECT_PREFIX}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_age: EVENTS_MAX_AGE_MS * 1_000_000,
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
 * Publishes one event and resolves once JetStream has stored it. The event id is the
 * message id, so re-publishing the same event within the duplicate window is a no-op
 * and retries are safe.
 */
export async function publishEvent(bus: Bus, streamName: string, event: VmcpEvent): Promise<void> {
  const parsed = events.VmcpEvent.safeParse(event);
  if (!parsed.success) throw new VmcpError('INTERNAL', `invalid event: ${describeZodError(parsed.error)}`);
  const h = natsHeaders();
  propagation.inject(context.active(), h, { set: (carrier, k, v) => carrier.set(k, v) });
  try {
    await jsFor(bus).publish(events.eventSubject(event.tenant_id, event.type), JSON.stringify(parsed.data), {
      msgID: event.event_id,
      headers: h,
      expect: { streamName },
      timeout: PUBLISH_TIMEOUT_MS,
    });
  } catch (err) {
    throw new VmcpError('UNAVAILABLE', `event stream unavailable: ${(err as Error).message.slice(0, 200)}`);
  }
}
