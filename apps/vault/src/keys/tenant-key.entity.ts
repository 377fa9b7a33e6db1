import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A tenant's data key, wrapped by the key-encryption key; one row per version. */
@Entity({ name: 'tenant_keys' })
export class TenantKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  tenant_id!: string;

  @PrimaryColumn({ type: 'integer' })
  version!: number;

  @Column({ type: 'varchar', length: 32 })
  kek_id!: string;

  /** base64 nonce and wrapped key (ciphertext + tag). */
  @Column({ type: 'varchar', length: 32 })
  nonce!: string;

  @Column({ type: 'varchar', length: 128 })
  wrapped_key!: string;

  @Column({ type: 'varchar', length: 40 })
  created_at!: string;
}
