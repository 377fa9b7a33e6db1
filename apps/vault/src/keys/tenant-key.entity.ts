import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A tenant's data key, wrapped by the key-encryption key; one row per version. Only a
 * master-key rotation changes a row (same data key, wrapped again), never its key bytes.
 */
@Entity({ name: 'tenant_keys' })
@Index('tenant_keys_kek', ['kek_id'])
export class TenantKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  tenant_id!: string;

  @PrimaryColumn({ type: 'integer' })
  version!: number;

  /** Which key-encryption key wrapped it: `local:` + fingerprint of a master key, later a KMS key id. */
  @Column({ type: 'varchar', length: 255 })
  kek_id!: string;

  /** base64 of the provider's opaque blob; additional data binds it to tenant and version. */
  @Column({ type: 'text' })
  wrapped_key!: string;

  @Column({ type: 'varchar', length: 40 })
  created_at!: string;
}
