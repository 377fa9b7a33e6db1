import type { vaultKeys } from '@vmcp/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One key-rotation job. RUNNING jobs are worked on by exactly one vault replica at a time:
 * the one holding the lease (`lease_owner` until `lease_until`); when a lease runs out
 * (the replica stopped or crashed) another replica takes the job over where it stands.
 */
@Entity({ name: 'key_rotations' })
@Index('key_rotations_status', ['status'])
@Index('key_rotations_tenant', ['tenant_id'])
export class KeyRotationEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  /** `master` (re-wrap every data key) or `tenant` (re-encrypt one tenant's credentials). */
  @Column({ type: 'varchar', length: 16 })
  kind!: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  tenant_id!: string | null;

  /** tenant: the data-key version credentials move to. */
  @Column({ type: 'integer', nullable: true })
  target_version!: number | null;

  /** master: the key-encryption key data keys move to. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  target_kek_id!: string | null;

  /** RUNNING, COMPLETED or FAILED. */
  @Column({ type: 'varchar', length: 16 })
  status!: string;

  @Column({ type: 'integer' })
  total!: number;

  @Column({ type: 'integer' })
  done!: number;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  lease_owner!: string | null;

  /** RFC 3339 UTC, compared as text like every timestamp here. */
  @Column({ type: 'varchar', length: 40, nullable: true })
  lease_until!: string | null;

  @Column({ type: 'varchar', length: 40 })
  created_at!: string;

  @Column({ type: 'varchar', length: 40 })
  updated_at!: string;

  @Column({ type: 'varchar', length: 40, nullable: true })
  finished_at!: string | null;
}

/** A job row as the contract shows it: progress and targets, never lease details. */
export function toKeyRotation(row: KeyRotationEntity): vaultKeys.KeyRotation {
  return {
    id: row.id,
    scope: row.kind as vaultKeys.KeyRotationScope,
    tenant_id: row.tenant_id,
    target_version: row.target_version,
    target_kek_id: row.target_kek_id,
    status: row.status as vaultKeys.KeyRotationStatus,
    total: row.total,
    done: row.done,
    error: row.error,
    created_at: row.created_at,
    updated_at: row.updated_at,
    finished_at: row.finished_at,
  };
}
