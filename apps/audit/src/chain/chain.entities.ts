import { Column, Entity, Index, PrimaryColumn, type ValueTransformer } from 'typeorm';

/** Sequence numbers are BIGINT; the pg driver returns them as strings. They stay far below 2^53. */
const seqNumber: ValueTransformer = {
  to: (v: number | undefined) => v,
  from: (v: string | number | null) => (v === null ? v : Number(v)),
};

/**
 * One stored audit event, append-only: the tenant's `seq`-th link of its hash chain.
 * `record` is the canonical JSON that is hashed; the other columns are copies of parts of
 * it for lookups (idempotency on `event_id`, retention on `occurred_at`).
 */
@Entity({ name: 'audit_records' })
@Index('audit_records_event', ['event_id'], { unique: true })
export class AuditRecordEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) tenant_id!: string;
  @PrimaryColumn({ type: 'bigint', transformer: seqNumber }) seq!: number;
  @Column({ type: 'varchar', length: 128 }) event_id!: string;
  @Column({ type: 'varchar', length: 64 }) execution_id!: string;
  @Column({ type: 'varchar', length: 40 }) occurred_at!: string;
  @Column({ type: 'text' }) record!: string;
  @Column({ type: 'varchar', length: 64 }) prev_hash!: string;
  @Column({ type: 'varchar', length: 64 }) hash!: string;
}

/**
 * A tenant's chain head, locked by every append (and purge) of that tenant, so replicas
 * append one after another; and its anchor, the last purged record, verification starts from.
 */
@Entity({ name: 'audit_chains' })
export class AuditChainEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) tenant_id!: string;
  @Column({ type: 'bigint', transformer: seqNumber }) last_seq!: number;
  @Column({ type: 'varchar', length: 64 }) last_hash!: string;
  @Column({ type: 'bigint', transformer: seqNumber }) anchor_seq!: number;
  @Column({ type: 'varchar', length: 64 }) anchor_hash!: string;
  @Column({ type: 'varchar', length: 40 }) updated_at!: string;
}
