import { events, VmcpError, type VmcpEvent } from '@vmcp/contracts';
import { type Bus, describeZodError } from './bus.js';
import { ensureStream, publishToStream } from './streams.js';

/** Events are kept this long whatever their consumers did: longer than any webhook retry schedule. */
export const EVENTS_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/**
 * Creates the events stream, or (policy, its owner) brings an existing one to the expected
 * configuration. Limits retention, not work-queue: webhook delivery and the bus API's event
 * feed are consumers among many. Other producers (the audit service) pass
 * `{ reconfigure: false }`: they make a missing stream and never change one.
 */
export function ensureEventsStream(bus: Bus, streamName: string, options: { reconfigure?: boolean } = {}): Promise<void> {
  return ensureStream(bus, streamName, [`${events.EVENTS_SUBJECT_PREFIX}.>`], { max_age: EVENTS_MAX_AGE_MS * 1_000_000, ...options });
}

/**
 * Publishes one event and resolves once JetStream has stored it. The event id is the
 * message id, so re-publishing the same event within the duplicate window is a no-op
 * and retries are safe.
 */
export async function publishEvent(bus: Bus, streamName: string, event: VmcpEvent): Promise<void> {
  const parsed = events.VmcpEvent.safeParse(event);
  if (!parsed.success) throw new VmcpError('INTERNAL', `invalid event: ${describeZodError(parsed.error)}`);
  await publishToStream(bus, {
    stream: streamName,
    subject: events.eventSubject(event.tenant_id, event.type),
    data: parsed.data,
    msgId: event.event_id,
    unavailable: 'event stream unavailable',
  });
}
