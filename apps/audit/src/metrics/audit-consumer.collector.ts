import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { Bus, consumerInfo } from '@vmcp/messaging';
import { metrics, type AuditConsumerState } from '@vmcp/telemetry';
import { AUDIT_CONSUMER } from '../ingest/audit-writer.service.js';

/** How often the consumer's state is read from JetStream. */
export const CONSUMER_REFRESH_MS = 5000;

/**
 * Audit lag as JetStream sees it: the durable consumer's pending and unacknowledged
 * counts, read every few seconds and reported as gauges. A value older than three
 * refreshes is not reported at all, so a stuck collector shows as a missing series
 * rather than as a lag that looks fine. Also answers readiness: is the consumer there?
 */
@Injectable()
export class AuditConsumerCollector implements OnApplicationBootstrap, OnApplicationShutdown {
  private state?: AuditConsumerState;
  private refreshedAt = 0;
  private timer?: NodeJS.Timeout;
  private stopObserving?: () => void;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly bus: Bus,
  ) {}

  onApplicationBootstrap(): void {
    this.stopObserving = metrics().audit.observeConsumer(() =>
      Date.now() - this.refreshedAt <= 3 * CONSUMER_REFRESH_MS ? this.state : undefined,
    );
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), CONSUMER_REFRESH_MS);
    this.timer.unref();
  }

  /** Reads the consumer's state now; false when the consumer (or JetStream) is not there. */
  async refresh(): Promise<boolean> {
    const info = await consumerInfo(this.bus, this.config.auditStream, AUDIT_CONSUMER);
    if (!info) return false;
    this.state = { pending: info.num_pending, ackPending: info.num_ack_pending };
    this.refreshedAt = Date.now();
    return true;
  }

  /** Readiness: the writer's durable consumer exists on the audit stream. */
  consumerPresent(): Promise<boolean> {
    return this.refresh();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.stopObserving?.();
  }
}
