import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An event committed together with the change it describes and not yet accepted by
 * JetStream (transactional outbox). The row is deleted once the stream has stored it.
 */
@Entity({ name: 'event_outbox' })
@Index('event_outbox_created', ['created_at', 'id'])
export class OutboxEventEntity {
  /** The event id, also the JetStream message id (duplicates are dropped by the stream). */
  @PrimaryColumn({ type: 'varchar', length: 64 }) id!: string;
  @Column({ type: 'varchar', length: 64 }) tenant_id!: string;
  /** The event as JSON, exactly as it is published. */
  @Column({ type: 'text' }) payload!: string;
  @Column({ type: 'varchar', length: 40 }) created_at!: string;
}
