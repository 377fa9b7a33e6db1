import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { Bus, KvMirror } from '@vmcp/messaging';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';

/** Key prefix of a tenant's change mark (policy writes `chg.<tenant_id>`). */
const TENANT_CHANGE_PREFIX = 'chg.';

/**
 * Told of every tenant change mark, of a restarted watch (marks may have been missed) and,
 * optionally, of each token id or config id as it is revoked (also for those already
 * revoked when the watch starts), to end what is held open under it.
 */
export interface ChangeListener {
  tenantChanged(tenantId: string): void;
  reset(): void;
  revoked?(id: string): void;
}

/**
 * Revoked token ids and deleted config ids, mirrored from the revocations KV bucket that
 * policy writes. Every edge replica watches it, so a revocation is seen everywhere within
 * milliseconds without a bus hop per request. The same watch carries the tenants' change
 * marks to the edge's caches.
 */
@Injectable()
export class RevocationsService implements OnApplicationShutdown {
  private readonly revoked = new Set<string>();
  private ready = false;
  private readyWaiters: Array<() => void> = [];
  private readonly mirror: KvMirror;
  private readonly listeners: ChangeListener[] = [];

  constructor(@Inject(VMCP_CONFIG) config: VmcpConfig, bus: Bus, @Inject(VMCP_LOGGER) logger: Logger) {
    this.mirror = new KvMirror(
      bus,
      config.revocationsBucket,
      {
        // A new watch replays current state, but marks lost while it was down are gone.
        restarted: () => {
          for (const l of this.listeners) l.reset();
        },
        entry: (entry) => {
          if (entry.key.startsWith(TENANT_CHANGE_PREFIX)) {
            const tenantId = entry.key.slice(TENANT_CHANGE_PREFIX.length);
            for (const l of this.listeners) l.tenantChanged(tenantId);
          } else if (entry.operation === 'PUT') {
            this.revoke(entry.key);
          } else this.revoked.delete(entry.key);
        },
        loaded: () => this.markReady(),
        down: (err) => logger.debug({ err: err.message }, 'revocations bucket not available yet'),
      },
      { retryMs: 250, checkMs: 5000 },
    );
  }

  /** Starts watching in the background; the bucket may not exist until policy has started. */
  start(): void {
    this.mirror.start();
  }

  private markReady(): void {
    if (this.ready) return;
    this.ready = true;
    for (const w of this.readyWaiters.splice(0)) w();
  }

  /**
   * Refuses a token or config id from now on, and tells the listeners (once). The watch calls
   * it for every replica; the replica that relayed a revocation policy confirmed calls it
   * too, so its caller reads its own write (the watch's copy is then a no-op).
   */
  revoke(id: string): void {
    if (this.revoked.has(id)) return;
    this.revoked.add(id);
    for (const l of this.listeners) l.revoked?.(id);
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  isReady(): boolean {
    return this.ready;
  }

  /** Resolves when the initial state is loaded, or false after timeoutMs (fail closed). */
  async whenReady(timeoutMs: number): Promise<boolean> {
    if (this.ready) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  isTokenRevoked(tokenId: string): boolean {
    return this.revoked.has(tokenId);
  }

  isConfigDeleted(configId: string): boolean {
    return this.revoked.has(configId);
  }

  onApplicationShutdown(): void {
    // Not waited for: the loop ends at its next step, and shutdown never waits on NATS for it.
    void this.mirror.close();
  }
}
