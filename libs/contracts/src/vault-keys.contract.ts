import { z } from 'zod';
import { PageRequest, Timestamp } from './common.js';
import { KeyRotationId, TenantId } from './ids.js';
import { defineRpc } from './rpc.js';

// The vault's key management. Subjects below are wire-compatible identifiers: never
// rename one in place. Who may publish here is decided by the bus (infra/k8s/base/nats/permissions.conf):
// the edge (management API) and the operators' command, which runs as the vault's user.

export const KeyRotationScope = z.enum(['master', 'tenant']);
export type KeyRotationScope = z.infer<typeof KeyRotationScope>;

/** RUNNING until every row is done (COMPLETED) or one cannot be (FAILED, with `error`). */
export const KeyRotationStatus = z.enum(['RUNNING', 'COMPLETED', 'FAILED']);
export type KeyRotationStatus = z.infer<typeof KeyRotationStatus>;

/** A rotation job as callers see it: what it moves to, and how far it has got. Never key bytes. */
export const KeyRotation = z.object({
  id: KeyRotationId,
  /** `master`: re-wrap every tenant data key with the current master key. `tenant`: a new data key for one tenant, its credentials re-encrypted. */
  scope: KeyRotationScope,
  /** The tenant of a `tenant` rotation; null for `master`. */
  tenant_id: TenantId.nullable(),
  /** `tenant`: the data-key version every credential of the tenant is re-encrypted to. */
  target_version: z.number().int().positive().nullable(),
  /** `master`: id of the master key data keys are re-wrapped with (a fingerprint such as `local:3f2a…`, never the key). */
  target_kek_id: z.string().max(255).nullable(),
  status: KeyRotationStatus,
  /** Rows to move: those done plus those still waiting; it can grow while the job runs. */
  total: z.number().int().nonnegative(),
  /** Rows moved so far. */
  done: z.number().int().nonnegative(),
  /** Why a FAILED job stopped: ids and a reason, never a secret. */
  error: z.string().max(2000).nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
  finished_at: Timestamp.nullable(),
});
export type KeyRotation = z.infer<typeof KeyRotation>;

const OneRotation = z.object({ key_rotation: KeyRotation });

/**
 * Starts re-wrapping every tenant data key with the vault's current master key. Idempotent:
 * while one is RUNNING for that key, the same job is returned.
 */
export const startMasterRotation = defineRpc({
  subject: 'vmcp.vault.v1.keys.rotate_master',
  request: z.strictObject({}),
  reply: OneRotation,
});

/**
 * Creates the tenant's next data-key version (new writes use it at once) and starts
 * re-encrypting its credentials. ALREADY_EXISTS while one is running for the tenant;
 * FAILED_PRECONDITION when the tenant has no data key yet.
 */
export const startTenantRotation = defineRpc({
  subject: 'vmcp.vault.v1.keys.rotate_tenant',
  request: z.strictObject({ tenant_id: TenantId }),
  reply: OneRotation,
});

/** One rotation; with `tenant_id`, only if it is that tenant's (else NOT_FOUND, as for an unknown id). */
export const getRotation = defineRpc({
  subject: 'vmcp.vault.v1.keys.get_rotation',
  request: z.strictObject({ id: KeyRotationId, tenant_id: TenantId.optional() }),
  reply: OneRotation,
});

/** Rotations, newest first, optionally filtered. */
export const listRotations = defineRpc({
  subject: 'vmcp.vault.v1.keys.list_rotations',
  request: z.strictObject({
    scope: KeyRotationScope.optional(),
    tenant_id: TenantId.optional(),
    status: KeyRotationStatus.optional(),
    ...PageRequest.shape,
  }),
  reply: z.object({ key_rotations: z.array(KeyRotation), next_page_token: z.string().optional() }),
});
