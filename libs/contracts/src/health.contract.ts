import { z } from 'zod';
import { defineRpc } from './rpc.js';

export const SERVICES = ['edge', 'policy', 'vault', 'executor', 'audit'] as const;
export type ServiceName = (typeof SERVICES)[number];

// Subjects below are wire-compatible identifiers: never rename one in place.

const Pong = z.object({ service: z.enum(SERVICES), ready: z.boolean(), version: z.string() });

/** Every bus service answers a ping on `vmcp.<service>.v1.ping`; /readyz asks them all. */
export const ping = {
  policy: defineRpc({ subject: 'vmcp.policy.v1.ping', request: z.strictObject({}), reply: Pong }),
  vault: defineRpc({ subject: 'vmcp.vault.v1.ping', request: z.strictObject({}), reply: Pong }),
  executor: defineRpc({ subject: 'vmcp.executor.v1.ping', request: z.strictObject({}), reply: Pong }),
  audit: defineRpc({ subject: 'vmcp.audit.v1.ping', request: z.strictObject({}), reply: Pong }),
} as const;
