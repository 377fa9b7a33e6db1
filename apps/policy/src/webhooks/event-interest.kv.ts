import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { KV } from '@nats-io/kv';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { VmcpError } from '@vmcp/contracts';
import { Bus, EVENT_INTEREST_REMARK_MS, markToolCallInterest, markWriterReady, openEventInterest, takesToolCallEvents } from '@vmcp/messaging';
import { DataSource } from '@vmcp/persistence';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import { WebhookEntity } from './webhook.entity.js';

/** After a failed pass over the stored webhooks, the next one comes this much sooner. */
const REMARK_RETRY_MS = 5000;

/**
 * Policy's side of the event-interest bucket (libs/messaging event-interest.ts): a tenant
 * whose webhook takes tool-call events is marked before the webhook is stored, so the audit
 * service publishes them by the time the first one could be delivered. At start, and every
 * few minutes, every stored webhook that takes them is marked again (webhooks set before the
 * bucket existed, a bucket lost and made again), then policy says it is ready. That pass
 * never stops policy: until it succeeds the audit service publishes every tool-call event.
 */
@Injectable()
export class EventInterestKv implements OnApplicationBootstrap, OnApplicationShutdown {
  private kv?: Promise<KV>;
  private timer?: NodeJS.Timeout;
  private failing = false;
  private stopped = false;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly bus: Bus,
    private readonly ds: DataSource,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.remarkAll();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Marks the tenant when a webhook taking `events` is about to be stored; UNAVAILABLE when the mark cannot be. */
  async markFor(tenantId: string, events: readonly string[]): Promise<void> {
    if (!takesToolCallEvents(events)) return;
    try {
      await this.mark(tenantId);
    } catch (err) {
      this.logger.warn({ tenant_id: tenantId, err: (err as Error).message.slice(0, 300) }, 'event interest not stored');
      throw new VmcpError('UNAVAILABLE', 'the webhook cannot be stored now; try again');
    }
  }

  private remarkAll(): void {
    void (async () => {
      let nextMs = EVENT_INTEREST_REMARK_MS;
      try {
        const hooks = await this.ds.getRepository(WebhookEntity).find({ select: { tenant_id: true, events: true } });
        const tenants = hooks.filter((h) => takesToolCallEvents(h.events)).map((h) => h.tenant_id);
        for (const tenant of tenants) await this.mark(tenant);
        await markWriterReady(await this.bucket(), 'policy');
        if (this.failing) this.logger.info({ tenants: tenants.length }, 'webhook tenants marked again');
        this.failing = false;
      } catch (err) {
        nextMs = REMARK_RETRY_MS;
        if (!this.failing) this.logger.warn({ err: (err as Error).message.slice(0, 300) }, 'webhook tenants not marked yet; retrying');
        this.failing = true;
      }
      if (!this.stopped) this.timer = setTimeout(() => this.remarkAll(), nextMs).unref();
    })();
  }

  /**
   * A bucket lost since it was opened (deleted, a NATS store lost) is made again once, and
   * the whole pass runs again soon after, since the new bucket holds this mark only.
   */
  private async mark(tenantId: string): Promise<void> {
    try {
      await markToolCallInterest(await this.bucket(), tenantId);
    } catch {
      this.kv = undefined;
      await markToolCallInterest(await this.bucket(), tenantId);
      if (!this.stopped) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.remarkAll(), 0).unref();
      }
    }
  }

  private bucket(): Promise<KV> {
    const opening = (this.kv ??= openEventInterest(this.bus, this.config.eventInterestBucket));
    // A failed opening is tried again next time.
    opening.catch(() => {
      if (this.kv === opening) this.kv = undefined;
    });
    return opening;
  }
}
