import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

// Policy's own tables. Timestamps are RFC 3339 strings (they sort as text on every database).

@Entity({ name: 'tenants' })
export class TenantEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id!: string;
  @Index('tenants_name', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  name!: string;
  @Column({ type: 'varchar', length: 40 }) created_at!: string;
}

@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id!: string;
  @Column({ type: 'varchar', length: 64 }) tenant_id!: string;
  /** SHA-256 of the key; the key itself is shown once and never stored. */
  @Index('api_keys_hash', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  key_hash!: string;
  @Column({ type: 'varchar', length: 40 }) created_at!: string;
  @Column({ type: 'varchar', length: 40, nullable: true }) revoked_at!: string | null;
}

/** A JSON value as stored (TypeORM's partial-entity types cannot walk `unknown`). */
type JsonValue = string | number | boolean | null | object;

export interface StoredSettings {
  url?: string;
  base_url?: string;
  header_name?: string;
  timeout_ms?: number;
  tool_timeouts_ms?: Record<string, number>;
  /** The openapi connector's document, or `{url}` of it (checked by the connector's validateSettings). */
  openapi?: { [key: string]: JsonValue };
  /** OAuth client settings; the secret itself is in the vault, only whether one is set is here. */
  oauth?: {
    client_id: string;
    client_secret_set: boolean;
    scopes: string[];
    authorize_url: string;
    token_url: string;
    revocation_url?: string;
    issuer?: string;
    token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'none';
  };
}

@Entity({ name: 'connections' })
@Index('connections_tenant_name', ['tenant_id', 'name'], { unique: true })
export class ConnectionEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id!: string;
  @Column({ type: 'varchar', length: 64 }) tenant_id!: string;
  @Column({ type: 'varchar', length: 64 }) name!: string;
  @Column({ type: 'varchar', length: 64 }) connector!: string;
  @Column({ type: 'varchar', length: 32 }) auth_type!: string;
  @Column({ type: 'simple-json' }) settings!: StoredSettings;
  @Column({ type: 'varchar', length: 40 }) created_at!: string;
  @Column({ type: 'varchar', length: 40 }) updated_at!: string;
}

@Entity({ name: 'connected_accounts' })
@Index('accounts_connection_identifier', ['connection_id', 'identifier'], { unique: true })
@Index('accounts_tenant_identifier', ['tenant_id', 'identifier'])
export class AccountEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id!: string;
  @Column({ type: 'varchar', length: 64 }) tenant_id!: string;
  @Column({ type: 'varchar', length: 64 }) connection_id!: string;
  @Column({ type: 'varchar', length: 255 }) identifier!: string;
  @Column({ type: 'varchar', length: 32 }) status!: string;
  @Column({ type: 'varchar', length: 40 }) created_at!: string;
  @Column({ type: 'varchar', length: 40 }) updated_at!: string;
}

export interface StoredMapping {
  connection_id: string;
  tools: string[];
  prefix?: string;
  timeout_ms?: number;
  tool_timeouts_ms?: Record<string, number>;
}

@Entity({ name: 'mcp_configs' })
@Index('configs_tenant_name', ['tenant_id', 'name'], { unique: true })
export class ConfigEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id!: string;
  @Column({ type: 'varchar', length: 64 }) tenant_id!: string;
  @Column({ type: 'varchar', length: 64 }) name!: string;
  @Column({ type: 'text', nullable: true }) description!: string | null;
  @Column({ type: 'simple-json' }) mappings!: StoredMapping[];
  /** The audit trail stores this config's call arguments and results (redacted), not only their digests. */
  @Column({ type: 'boolean', default: false }) capture_payloads!: boolean;
  /** An upstream may ask the agent for sampling (`sampling/createMessage`) during this config's calls. */
  @Column({ type: 'boolean', default: true }) allow_sampling!: boolean;
  /** An upstream may ask the agent's user for input (`elicitation/create`) during this config's calls. */
  @Column({ type: 'boolean', default: true }) allow_elicitation!: boolean;
  @Column({ type: 'varchar', length: 40 }) created_at!: string;
  @Column({ type: 'varchar', length: 40 }) updated_at!: string;
}

@Entity({ name: 'session_tokens' })
@Index('tokens_tenant', ['tenant_id'])
export class SessionTokenEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id!: string;
  @Column({ type: 'varchar', length: 64 }) tenant_id!: string;
  @Column({ type: 'varchar', length: 64 }) config_id!: string;
  @Column({ type: 'varchar', length: 255 }) identifier!: string;
  @Column({ type: 'varchar', length: 40 }) expires_at!: string;
  @Column({ type: 'varchar', length: 40, nullable: true }) revoked_at!: string | null;
  @Column({ type: 'varchar', length: 40 }) created_at!: string;
}

@Entity({ name: 'signing_keys' })
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) kid!: string;
  @Column({ type: 'text' }) private_jwk!: string;
  @Column({ type: 'text' }) public_jwk!: string;
  @Column({ type: 'varchar', length: 40 }) created_at!: string;
}

export const POLICY_ENTITIES = [
  TenantEntity,
  ApiKeyEntity,
  ConnectionEntity,
  AccountEntity,
  ConfigEntity,
  SessionTokenEntity,
  SigningKeyEntity,
];
