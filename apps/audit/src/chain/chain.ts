import { createHash } from 'node:crypto';
import { canonicalJson, type AuditEvent, type ChainBreakReason } from '@vmcp/contracts';

/** The `prev_hash` of a tenant's first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** Version of the record layout below; a new layout gets a new number, old records keep theirs. */
const RECORD_VERSION = 1;

export interface RecordFacts {
  readonly tenant_id: string;
  readonly seq: number;
  /** When the audit service stored it (its own clock). */
  readonly recorded_at: string;
  readonly event: AuditEvent;
}

/** The hashed text of one record: canonical JSON, so anyone can recompute it. */
export function recordText(facts: RecordFacts): string {
  return canonicalJson({ v: RECORD_VERSION, tenant_id: facts.tenant_id, seq: facts.seq, recorded_at: facts.recorded_at, event: facts.event });
}

/** hash = SHA-256(prev_hash ‖ record), lower-case hex; prev_hash is hex text too. */
export function linkHash(prevHash: string, record: string): string {
  return createHash('sha256').update(prevHash, 'utf8').update(record, 'utf8').digest('hex');
}

/** When an event happened, by its own clock: retention purges by this. */
export function occurredAt(event: AuditEvent): string {
  const at = event.type === 'started' ? event.started_at : event.finished_at;
  const time = new Date(at);
  // Stored in the one UTC form, so text comparison with a cutoff is right.
  return Number.isNaN(time.getTime()) ? at : time.toISOString();
}

export interface StoredLink {
  readonly seq: number;
  readonly record: string;
  readonly prev_hash: string;
  readonly hash: string;
}

/**
 * Checks one stored record found at the position where `expectedSeq` belongs, after a
 * record whose hash is `prevHash`. The checks go from the most to the least specific
 * finding: a gap, an edited record, a record moved from elsewhere, a broken link.
 */
export function checkLink(row: StoredLink, tenantId: string, expectedSeq: number, prevHash: string): ChainBreakReason | undefined {
  if (row.seq !== expectedSeq) return 'missing';
  if (linkHash(row.prev_hash, row.record) !== row.hash) return 'hash_mismatch';
  let claims: { seq?: unknown; tenant_id?: unknown } | undefined;
  try {
    claims = JSON.parse(row.record) as typeof claims;
  } catch {
    claims = undefined;
  }
  if (claims?.seq !== row.seq || claims.tenant_id !== tenantId) return 'reordered';
  if (row.prev_hash !== prevHash) return 'prev_mismatch';
  return undefined;
}
