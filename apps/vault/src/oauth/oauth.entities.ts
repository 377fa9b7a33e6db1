import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A connection's OAuth client: its public settings as JSON, and its secret sealed under
 * the tenant's data key (additional data: tenant, connection, key version).
 */
@Entity({ name: 'oauth_clients' })
@Index('oauth_clients_tenant', ['tenant_id'])
export class OAuthClientEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  connection_id!: string;

  @Column({ type: 'varchar', length: 64 })
  tenant_id!: string;

  /** JSON of the vault contract's OAuthClient: ids and URLs, nothing secret. */
  @Column({ type: 'text' })
  client!: string;

  /** Null when the client has no secret (token_endpoint_auth_method `none`). */
  @Column({ type: 'integer', nullable: true })
  key_version!: number | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  nonce!: string | null;

  @Column({ type: 'text', nullable: true })
  ciphertext!: string | null;

  @Column({ type: 'varchar', length: 40 })
  created_at!: string;

  @Column({ type: 'varchar', length: 40 })
  updated_at!: string;
}

/**
 * One authorization link: who it is for, where the user goes back to, and the PKCE
 * verifier (sealed). Consumed once, at the callback; useless after `expires_at`.
 */
@Entity({ name: 'oauth_states' })
@Index('oauth_states_expires', ['expires_at'])
export class OAuthStateEntity {
  /** The random part of the state; the link carries it with an HMAC. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  tenant_id!: string;

  @Column({ type: 'varchar', length: 64 })
  connection_id!: string;

  @Column({ type: 'varchar', length: 64 })
  account_id!: string;

  @Column({ type: 'text', nullable: true })
  redirect_url!: string | null;

  @Column({ type: 'integer' })
  key_version!: number;

  @Column({ type: 'varchar', length: 32 })
  nonce!: string;

  /** The PKCE code verifier, sealed. */
  @Column({ type: 'text' })
  ciphertext!: string;

  @Column({ type: 'varchar', length: 40 })
  expires_at!: string;

  @Column({ type: 'varchar', length: 40, nullable: true })
  used_at!: string | null;

  @Column({ type: 'varchar', length: 40 })
  created_at!: string;
}
