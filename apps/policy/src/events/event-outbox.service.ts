import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { events, isVmcpError, type VmcpEvent } from '@vmcp/contracts';
import { Bus, ensureEventsStream, publishEvent } from '@vmcp/messaging';
import { DataSource, type EntityManager } from '@vmcp/persistence';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import { OutboxEventEntity } from './outbox-event.entity.js';

/** Rows left by a replica that died between commit and publish are picked up this often. */
const POLL_MS = 5_000;
const BATCH = 100;
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 30_000;

/** Delay before the n-th consecutive retry (n >= 1): doubling from 100 ms, capped at 30 s. */
export function outboxRetryDelayMs(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(failures - 1, 20));
}

/**
 * Publishes policy's events to the events stream, at least once. An event is written to
 * `event_outbox` in the same transaction as the change it describes, so it exists if and
 * only if the change committed; after commit it is published (message id = event id, so
 * JetStream drops a re-publish within its duplicate window) and only then deleted. A
 * failed publish is retried with backoff, and rows survive a crash or restart. Events are
 * published in commit order per replica; every replica drains every row, so a duplicate
 * older than the duplicate window can reach consumers, which deduplicate by event id.
 */
@Injectable()
export class EventOutbox implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopped = false;
  private kicked = false;
  private wake?: () => void;
  private loop?: Promise<void>;
  private streamReady = false;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly bus: Bus,
    private readonly ds: DataSource,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  /** Stores the event in the caller's transaction. Call `publishSoon` once it committed. */
  async stage(m: EntityManager, event: VmcpEvent): Promise<void> {
    const payload = events.VmcpEvent.parse(event);
    await m.getRepository(OutboxEventEntity).insert({
      id: payload.event_id,
      tenant_id: payload.tenant_id,
      payload: JSON.stringify(payload),
      created_at: payload.occurred_at,
    });
  }

  /** Publishes what is staged without waiting for the next poll; never blocks the caller. */
  publishSoon(): void {
    this.kicked = true;
    this.wake?.();
  }

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      this.kicked = false;
      try {
        if (!this.streamReady) {
          await ensureEventsStream(this.bus, this.config.eventsStream);
          this.streamReady = true;
        }
        await this.drain();
        if (failures) this.logger.info({ failures }, 'event stream reachable again; outbox drained');
        failures = 0;
      } catch (err) {
        failures++;
        this.streamReady = false;
        // One line on the first failure and then now and then, not one per retry.
        if (failures === 1 || failures % 20 === 0) {
          this.logger.warn({ err: (err as Error).message.slice(0, 300), failures }, 'events not published yet; retrying');
        }
      }
      if (this.stopped) return;
      // While failing, new events do not cut the backoff short.
      if (failures) await this.sleep(outboxRetryDelayMs(failures), false);
      else if (!this.kicked) await this.sleep(POLL_MS, true);
    }
  }

  private async drain(): Promise<void> {
    const repo = this.ds.getRepository(OutboxEventEntity);
    for (;;) {
      const rows = await repo.find({ order: { created_at: 'ASC', id: 'ASC' }, take: BATCH });
      for (const row of rows) {
        if (this.stopped) return;
        const parsed = events.VmcpEvent.safeParse(safeJson(row.payload));
        if (parsed.success) {
          try {
            await publishEvent(this.bus, this.config.eventsStream, parsed.data);
          } catch (err) {
            // An event the contract refuses would block the outbox forever: drop it loudly.
            if (!(isVmcpError(err) && err.code === 'INTERNAL')) throw err;
            this.logger.error({ event_id: row.id, err: err.message }, 'invalid event dropped from the outbox');
          }
        } else {
          this.logger.error({ event_id: row.id }, 'unreadable event dropped from the outbox');
        }
        await repo.delete({ id: row.id });
      }
      if (rows.length < BATCH) return;
    }
  }

  private sleep(ms: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      // Shutdown always wakes; new events only when not backing off.
      this.wake = wakeable ? done : () => (this.stopped ? done() : undefined);
    });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
