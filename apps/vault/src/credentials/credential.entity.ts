import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One connected account's credential, encrypted under its tenant's data key. */
@Entity({ name: 'credentials' })
@Index('credentials_tenant', ['tenant_id'])
export class CredentialEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  account_id!: string;

  @Column({ type: 'varchar', length: 64 })
  tenant_id!: string;

  @Column({ type: 'varchar', length: 32 })
  auth_type!: string;

  @Column({ type: 'integer' })
  key_version!: number;

  /** base64 of the 12-byte nonce. */
  @Column({ type: 'varchar', length: 32 })
  nonce!: string;

  /** base64 of ciphertext + GCM tag. */
  @Column({ type: 'text' })
  ciphertext!: string;

  @Column({ type: 'varchar', length: 40 })
  created_at!: string;

  @Column({ type: 'varchar', length: 40 })
  updated_at!: string;
}
