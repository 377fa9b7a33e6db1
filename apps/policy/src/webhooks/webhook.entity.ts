import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A tenant's one webhook. */
@Entity({ name: 'webhooks' })
export class WebhookEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) tenant_id!: string;
  @Column({ type: 'varchar', length: 2048 }) url!: string;
  /** Event types, or ["*"]. */
  @Column({ type: 'simple-json' }) events!: string[];
  /**
   * `whsec_…`: kept readable because every delivery is signed with it. It leaves policy
   * only towards the executor (delivery_target), never in a reply to the edge after creation.
   */
  @Column({ type: 'varchar', length: 128 }) signing_secret!: string;
  @Column({ type: 'varchar', length: 40 }) created_at!: string;
  @Column({ type: 'varchar', length: 40 }) updated_at!: string;
}
