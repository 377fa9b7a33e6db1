import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One connected account's credential, sealed under its tenant's data key. */
@Entity({ name: 'credentials' })
@Index('credentials_tenant', ['tenant_id'])
export class CredentialEntity {
  /** Account ids are global (policy mints them); every query also filters by tenant. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  account_id!: string;

  @Column({ type: 'varchar', length: 64 })
  tenant_id!: string;

  @Column({ type: 'varchar', length: 32 })
  auth_type!: string;

  /** Version of the tenant data key it is sealed under. */
  @Column({ type: 'integer' })
  key_version!: number;

  /** base64 of the 12-byte GCM nonce. */
  @Column({ type: 'varchar', length: 32 })
  nonce!: string;

  /** base64 of ciphertext followed by the GCM tag. */
  @Column({ type: 'text' })
  ciphertext!: string;

  @Column({ type: 'varchar', length: 40 })
  created_at!: string;

  @Column({ type: 'varchar', length: 40 })
  updated_at!: string;
}
