import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { VmcpError } from '@vmcp/contracts';
import { Bus, EventInterestWriter, openEventInterest, takesToolCallEvents } from '@vmcp/messaging';
import { DataSource } from '@vmcp/persistence';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import { WebhookEntity } from './webhook.entity.js';

/**
 * Policy's side of the event-interest bucket (libs/messaging event-interest.ts): a tenant
 * whose webhook takes tool-call events is marked before the webhook is stored, so the audit
 * service publishes them by the time the first one could be delivered; every stored webhook
 * that takes them is marked again at start and every few minutes (webhooks set before the
 * bucket existed, a bucket lost and made again).
 */
@Injectable()
export class EventInterestKv implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly writer: EventInterestWriter;

  constructor(
    @Inject(VMCP_CONFIG) config: VmcpConfig,
    bus: Bus,
    ds: DataSource,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {
    this.writer = new EventInterestWriter(
      'policy',
      () => openEventInterest(bus, config.eventInterestBucket),
      async () => {
        const hooks = await ds.getRepository(WebhookEntity).find({ select: { tenant_id: true, events: true } });
        return hooks.filter((h) => takesToolCallEvents(h.events)).map((h) => h.tenant_id);
      },
      logger,
    );
  }

  onApplicationBootstrap(): void {
    this.writer.start();
  }

  onApplicationShutdown(): void {
    this.writer.stop();
  }

  /** Marks the tenant when a webhook taking `events` is about to be stored; UNAVAILABLE when the mark cannot be. */
  async markFor(tenantId: string, events: readonly string[]): Promise<void> {
    if (!takesToolCallEvents(events)) return;
    try {
      await this.writer.mark(tenantId);
    } catch (err) {
      this.logger.warn({ tenant_id: tenantId, err: (err as Error).message.slice(0, 300) }, 'event interest not stored');
      throw new VmcpError('UNAVAILABLE', 'the webhook cannot be stored now; try again');
    }
  }
}
