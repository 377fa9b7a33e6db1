import { z } from 'zod';
import { AccountStatus, Identifier, Name, Timestamp } from './common.js';
import { AccountId, idSchema, TenantId } from './ids.js';

// Subjects and event shapes below are wire-compatible and public (webhooks, and later a
// feed for internal services): never rename or remove a field in place, add a new version.

/**
 * Every tenant-visible event is stored on one JetStream stream under
 * `vmcp.events.v1.<tenant_id>.<type>`, so a consumer can filter by tenant and by type.
 */
export const EVENTS_SUBJECT_PREFIX = 'vmcp.events.v1';

export const EventType = z.enum(['connected_account.status_changed']);
export type EventType = z.infer<typeof EventType>;

export const EventId = idSchema('evt');

export function eventSubject(tenantId: string, type: EventType): string {
  return `${EVENTS_SUBJECT_PREFIX}.${tenantId}.${type}`;
}

/** A connected account's status changed (only sent when it really changed). No secret is part of it. */
export const ConnectedAccountStatusChanged = z.object({
  /** Unique per event; the same id on every delivery attempt (use it to drop duplicates). */
  event_id: EventId,
  type: z.literal('connected_account.status_changed'),
  tenant_id: TenantId,
  /** When policy committed the change. */
  occurred_at: Timestamp,
  data: z.object({
    connected_account_id: AccountId,
    connection_name: Name,
    identifier: Identifier,
    previous_status: AccountStatus,
    status: AccountStatus,
  }),
});
export type ConnectedAccountStatusChanged = z.infer<typeof ConnectedAccountStatusChanged>;

/** Any event on the stream. */
export const VmcpEvent = z.discriminatedUnion('type', [ConnectedAccountStatusChanged]);
export type VmcpEvent = z.infer<typeof VmcpEvent>;

/**
 * What every event has, whatever its type: enough to route it (tenant, type) and to
 * deliver it unchanged, including types newer than the reader.
 */
export const EventEnvelope = z.looseObject({
  event_id: EventId,
  type: z.string().min(1).max(128),
  tenant_id: TenantId,
  occurred_at: Timestamp,
  data: z.record(z.string(), z.unknown()),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;
