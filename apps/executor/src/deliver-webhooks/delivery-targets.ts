import { webhooks, type RpcReply } from '@vmcp/contracts';
import type { Bus } from '@vmcp/messaging';

type Target = RpcReply<typeof webhooks.deliveryTarget>['target'];

/** How long a copy is kept at most: the backstop for a change event lost while NATS was away. */
export const DELIVERY_TARGET_TTL_MS = 30_000;

interface Entry {
  readonly target: Target;
  readonly until: number;
}

/**
 * The executor's copies of tenants' delivery targets (policy's answer, "no webhook"
 * included), so an event of a tenant without a webhook, or the hundredth event of one with,
 * costs no request to policy. Policy publishes `webhook_changed` after every change to a
 * tenant's webhook (set, removed, secret rotated); every replica drops that tenant's copy
 * at once. A per-tenant generation keeps an answer asked for before a change and arriving
 * after it from being kept.
 */
export class DeliveryTargets {
  private readonly entries = new Map<string, Entry>();
  private readonly generations = new Map<string, number>();
  private readonly subscription: { unsubscribe(): void };

  constructor(
    private readonly bus: Bus,
    private readonly now: () => number = Date.now,
  ) {
    this.subscription = bus.subscribe(webhooks.webhookChanged, (e) => this.drop(e.tenant_id));
  }

  async get(tenantId: string): Promise<Target> {
    const kept = this.kept(tenantId);
    if (kept) return kept.target;
    const generation = this.generations.get(tenantId) ?? 0;
    const { target } = await this.bus.request(webhooks.deliveryTarget, { tenant_id: tenantId });
    if ((this.generations.get(tenantId) ?? 0) === generation) this.entries.set(tenantId, { target, until: this.now() + DELIVERY_TARGET_TTL_MS });
    return target;
  }

  /** The kept copy, without asking policy: undefined when there is none (or it is too old). */
  kept(tenantId: string): { readonly target: Target } | undefined {
    const kept = this.entries.get(tenantId);
    return kept && kept.until > this.now() ? kept : undefined;
  }

  drop(tenantId: string): void {
    this.entries.delete(tenantId);
    this.generations.set(tenantId, (this.generations.get(tenantId) ?? 0) + 1);
  }

  close(): void {
    this.subscription.unsubscribe();
  }
}
