import type { AuditEvent } from '@vmcp/contracts';
import { bulkInsert } from '@vmcp/persistence';
import { In, type EntityManager } from 'typeorm';
import { AuditChainEntity, AuditRecordEntity } from '../chain/chain.entities.js';
import { GENESIS_HASH, linkHash, occurredAt, recordText } from '../chain/chain.js';

const INSERT_CHUNK = 500;

/**
 * Appends events to their tenants' hash chains inside the caller's transaction and
 * returns the ones that were new. An event id already stored is skipped, so redelivery
 * changes nothing. Each tenant's head row is locked first (Postgres: FOR UPDATE, in tenant
 * order; SQLite: the first statement is a write, which takes the database's one write
 * lock), so concurrent replicas append one after another and never fork a chain.
 */
export async function appendEvents(m: EntityManager, events: readonly AuditEvent[], recordedAt: string): Promise<AuditEvent[]> {
  if (!events.length) return [];
  const tenants = [...new Set(events.map((e) => e.tenant_id))].sort();
  await m
    .createQueryBuilder()
    .insert()
    .into(AuditChainEntity)
    .values(tenants.map((tenant_id) => ({ tenant_id, last_seq: 0, last_hash: GENESIS_HASH, anchor_seq: 0, anchor_hash: GENESIS_HASH, updated_at: recordedAt })))
    .orIgnore()
    .execute();
  const heads = m.getRepository(AuditChainEntity).createQueryBuilder('c').where('c.tenant_id IN (:...tenants)', { tenants }).orderBy('c.tenant_id');
  if (m.connection.options.type === 'postgres') heads.setLock('pessimistic_write');
  const byTenant = new Map((await heads.getMany()).map((h) => [h.tenant_id, h]));

  // Read after the locks: whatever another replica stored for these tenants is committed by now.
  const ids = [...new Set(events.map((e) => e.event_id))];
  const seen = new Set(
    (await m.getRepository(AuditRecordEntity).find({ select: { event_id: true }, where: { event_id: In(ids) } })).map((r) => r.event_id),
  );

  const rows: AuditRecordEntity[] = [];
  const fresh: AuditEvent[] = [];
  for (const event of events) {
    const head = byTenant.get(event.tenant_id);
    if (!head || seen.has(event.event_id)) continue;
    seen.add(event.event_id);
    const seq = head.last_seq + 1;
    const record = recordText({ tenant_id: event.tenant_id, seq, recorded_at: recordedAt, event });
    const hash = linkHash(head.last_hash, record);
    rows.push({ tenant_id: event.tenant_id, seq, event_id: event.event_id, execution_id: event.execution_id, occurred_at: occurredAt(event), record, prev_hash: head.last_hash, hash });
    head.last_seq = seq;
    head.last_hash = hash;
    fresh.push(event);
  }
  await bulkInsert(m, AuditRecordEntity, rows, { chunk: INSERT_CHUNK });
  for (const head of byTenant.values()) {
    if (!rows.some((r) => r.tenant_id === head.tenant_id)) continue;
    await m.getRepository(AuditChainEntity).update({ tenant_id: head.tenant_id }, { last_seq: head.last_seq, last_hash: head.last_hash, updated_at: recordedAt });
  }
  return fresh;
}
