import { z } from 'zod';
import { AuthType, StaticAuth, TenantScoped } from './common.js';
import { AccountId } from './ids.js';
import { defineRpc } from './rpc.js';

// Subjects below are wire-compatible identifiers: never rename one in place.

/** Encrypts and stores (or replaces) the credential of one connected account. */
export const storeCredential = defineRpc({
  subject: 'vmcp.vault.v1.credentials.store',
  request: TenantScoped.extend({ account_id: AccountId, auth_type: AuthType, secret: StaticAuth }).strict(),
  reply: z.object({ stored: z.literal(true), key_version: z.number().int() }),
});

/**
 * Decrypts a credential. Only the executor's NATS user may publish here (bus permissions);
 * the plaintext lives in the executor's memory only.
 */
export const resolveCredential = defineRpc({
  subject: 'vmcp.vault.v1.credentials.resolve',
  request: TenantScoped.extend({ account_id: AccountId }).strict(),
  reply: z.object({ auth_type: AuthType, secret: StaticAuth }),
});

export const destroyCredential = defineRpc({
  subject: 'vmcp.vault.v1.credentials.destroy',
  request: TenantScoped.extend({ account_id: AccountId }).strict(),
  reply: z.object({ destroyed: z.boolean() }),
});
