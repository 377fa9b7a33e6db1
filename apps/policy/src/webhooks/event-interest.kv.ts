import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import type { KV } from '@nats-io/kv';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { VmcpError } from '@vmcp/contracts';
import { Bus, markToolCallInterest, openEventInterest, takesToolCallEvents } from '@vmcp/messaging';
import { DataSource } from '@vmcp/persistence';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import { WebhookEntity } from './webhook.entity.js';

/**
 * Policy's side of the event-interest bucket (libs/messaging event-interest.ts): a tenant
 * whose webhook takes tool-call events is marked before the webhook is stored, so the audit
 * service publishes them by the time the first one could be delivered. At start, every
 * stored webhook that takes them is marked too (webhooks set before the bucket existed).
 */
@Injectable()
export class EventInterestKv implements OnModuleInit, OnApplicationBootstrap {
  private kv?: KV;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly bus: Bus,
    private readonly ds: DataSource,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    this.kv = await openEventInterest(this.bus, this.config.eventInterestBucket);
  }

  async onApplicationBootstrap(): Promise<void> {
    const hooks = await this.ds.getRepository(WebhookEntity).find({ select: { tenant_id: true, events: true } });
    let marked = 0;
    for (const hook of hooks) {
      if (!takesToolCallEvents(hook.events)) continue;
      await this.mark(hook.tenant_id);
      marked++;
    }
    if (marked) this.logger.info({ tenants: marked }, 'tenants with webhooks taking tool call events marked');
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

  /** A bucket lost since it was opened (deleted, a NATS store lost) is made again once. */
  private async mark(tenantId: string): Promise<void> {
    try {
      if (!this.kv) throw new Error('event interest bucket not open');
      await markToolCallInterest(this.kv, tenantId);
    } catch {
      this.kv = await openEventInterest(this.bus, this.config.eventInterestBucket);
      await markToolCallInterest(this.kv, tenantId);
    }
  }
}
