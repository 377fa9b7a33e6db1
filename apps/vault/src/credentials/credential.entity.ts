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

  // OAuth accounts only (null otherwise); plain facts, no secret.

  /** The connection whose OAuth client refreshes and revokes this account's tokens. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  connection_id!: string | null;

  /** When the access token expires, as the provider said (RFC 3339); null when it did not say. */
  @Column({ type: 'varchar', length: 40, nullable: true })
  expires_at!: string | null;

  /** The vault replica refreshing the tokens now, and until when it may: one refresh per account at a time. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  refresh_lease_owner!: string | null;

  @Column({ type: 'varchar', length: 40, nullable: true })
  refresh_lease_until!: string | null;

  /** When the provider refused the refresh token: the user must authorize again. */
  @Column({ type: 'varchar', length: 40, nullable: true })
  refused_at!: string | null;

  @Column({ type: 'varchar', length: 40 })
  updated_at!: string;
}
