import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A tenant's data key, wrapped by the key-encryption key; one row per version, never updated. */
@Entity({ name: 'tenant_keys' })
export class TenantKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  tenant_id!: string;

  @PrimaryColumn({ type: 'integer' })
  version!: number;

  /** Which KeyEncryptionKeyProvider wrapped it (`local-v1`, later a KMS key). */
  @Column({ type: 'varchar', length: 255 })
  kek_id!: string;

  /** base64 of the provider's opaque blob; additional data binds it to tenant and version. */
  @Column({ type: 'text' })
  wrapped_key!: string;

  @Column({ type: 'varchar', length: 40 })
  created_at!: string;
}
