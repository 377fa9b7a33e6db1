import { z } from 'zod';
import { TenantScoped, Timestamp } from './common.js';
import { EventType } from './events.contract.js';
import { defineEvent, defineRpc } from './rpc.js';

// Subjects below are wire-compatible identifiers: never rename one in place.

/** Longest webhook URL accepted. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

function hasNoCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

/** Where a tenant's events are POSTed: http(s), no user:password part (use the signature to authenticate). */
export const WebhookUrl = z
  .url({ protocol: /^https?$/, hostname: /^.+$/ })
  .max(MAX_WEBHOOK_URL_LENGTH)
  .refine(hasNoCredentials, 'must not contain a user name or password');

/** Event types to deliver; `["*"]` (the default) is every type, including types added later. */
export const WebhookEvents = z
  .array(z.union([z.literal('*'), EventType]))
  .min(1, 'must name at least one event type, or ["*"] for all')
  .max(32)
  .refine((e) => new Set(e).size === e.length, 'must not repeat an event type')
  .refine((e) => !e.includes('*') || e.length === 1, '"*" must be the only entry when used');

export const WebhookInput = z.strictObject({
  url: WebhookUrl,
  events: WebhookEvents.optional(),
});

/** A tenant's webhook as shown: the signing secret is never part of it. */
export const Webhook = z.object({
  url: z.string(),
  events: z.array(z.string()),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Webhook = z.infer<typeof Webhook>;

/** `whsec_` and the base64 of the HMAC key (Standard Webhooks format). */
export const SigningSecret = z.string().regex(/^whsec_[A-Za-z0-9+/]{20,120}={0,2}$/);

/**
 * Creates or replaces the tenant's one webhook. The signing secret is generated on
 * creation and returned then only; a replacement keeps it.
 */
export const putWebhook = defineRpc({
  subject: 'vmcp.policy.v1.webhooks.config.put',
  request: TenantScoped.extend(WebhookInput.shape).strict(),
  reply: z.object({ webhook: Webhook, signing_secret: SigningSecret.optional() }),
});

export const getWebhook = defineRpc({
  subject: 'vmcp.policy.v1.webhooks.config.get',
  request: TenantScoped.strict(),
  reply: z.object({ webhook: Webhook }),
});

export const deleteWebhook = defineRpc({
  subject: 'vmcp.policy.v1.webhooks.config.delete',
  request: TenantScoped.strict(),
  reply: z.object({ deleted: z.literal(true) }),
});

/** A new signing secret, effective for the next delivery attempt; the old one stops working at once. */
export const rotateWebhookSecret = defineRpc({
  subject: 'vmcp.policy.v1.webhooks.config.rotate_secret',
  request: TenantScoped.strict(),
  reply: z.object({ webhook: Webhook, signing_secret: SigningSecret }),
});

/**
 * Where and how to deliver a tenant's events, secret included: only the executor's NATS
 * user may ask (infra/k8s/base/nats/permissions.conf). `target` is null when no webhook is set.
 */
export const deliveryTarget = defineRpc({
  subject: 'vmcp.policy.v1.webhooks.delivery_target',
  request: TenantScoped.strict(),
  reply: z.object({
    target: z.object({ url: z.string(), events: z.array(z.string()), signing_secret: SigningSecret }).nullable(),
  }),
});

/**
 * Published by policy once a tenant's webhook was set, removed or given a new secret: every
 * executor replica drops its copy of that tenant's delivery target.
 */
export const webhookChanged = defineEvent({
  subject: 'vmcp.policy.v1.events.webhook_changed',
  payload: TenantScoped,
});

/** Whether a webhook subscribed to `events` wants an event of `type`. */
export function wantsEvent(events: readonly string[], type: string): boolean {
  return events.includes('*') || events.includes(type);
}
