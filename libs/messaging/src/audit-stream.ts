import { audit, VmcpError, type AuditEvent } from '@vmcp/contracts';
import { type Bus, describeZodError } from './bus.js';
import { ensureStream, publishToStream } from './streams.js';

/**
 * Creates the audit stream, or (the audit service, its owner) brings an existing one to the
 * expected configuration. Producers pass `{ reconfigure: false }`: they make a missing stream,
 * so calls can run before the audit service is up, and never change one. The bus enforces it
 * (infra/k8s/base/nats/permissions.conf): a producer that could update the stream could cut its
 * limits and drop records not yet stored.
 */
export function ensureAuditStream(bus: Bus, streamName: string, options: { maxAgeMs: number; reconfigure?: boolean }): Promise<void> {
  const { maxAgeMs, reconfigure } = options;
  // The age bounds the stream's disk: the trail is in the audit database once stored.
  return ensureStream(bus, streamName, [`${audit.AUDIT_EVENTS_SUBJECT_PREFIX}.>`], {
    max_age: maxAgeMs * 1_000_000,
    ...(reconfigure !== undefined ? { reconfigure } : {}),
  });
}

/**
 * Publishes one audit event and resolves once JetStream has stored it. Re-publishing
 * the same event id within the duplicate window is a no-op, so retries are safe.
 */
export async function publishAuditEvent(bus: Bus, streamName: string, event: AuditEvent): Promise<void> {
  const parsed = audit.AuditEvent.safeParse(event);
  if (!parsed.success) throw new VmcpError('INTERNAL', `invalid audit event: ${describeZodError(parsed.error)}`);
  // The record carries the call's trace context, so the audit write joins the call's trace.
  await publishToStream(bus, {
    stream: streamName,
    subject: audit.auditEventSubject(event.tenant_id),
    data: parsed.data,
    msgId: event.event_id,
    unavailable: 'audit log unavailable',
  });
}
