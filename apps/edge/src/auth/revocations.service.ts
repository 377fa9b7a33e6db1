import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Kvm, type KV } from '@nats-io/kv';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { Bus } from '@vmcp/messaging';
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
  private stopped = false;
  private readyWaiters: Array<() => void> = [];
  private watch?: { stop(): void };
  private readonly listeners: ChangeListener[] = [];

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly bus: Bus,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  /** Starts watching in the background; the bucket may not exist until policy has started. */
  start(): void {
    void this.run();
  }

  private async run(): Promise<void> {
    const kvm = new Kvm(this.bus.connection);
    while (!this.stopped) {
      try {
        const kv: KV = await kvm.open(this.config.revocationsBucket);
        const watch = await kv.watch({ key: '>' });
        this.watch = watch;
        // A new watch replays current state, but marks lost while it was down are gone.
        for (const l of this.listeners) l.reset();
        // An empty bucket has no last value to signal the end of the initial load.
        if ((await kv.status()).values === 0) this.markReady();
        for await (const entry of watch) {
          if (entry.key.startsWith(TENANT_CHANGE_PREFIX)) {
            const tenantId = entry.key.slice(TENANT_CHANGE_PREFIX.length);
            for (const l of this.listeners) l.tenantChanged(tenantId);
          } else if (entry.operation === 'PUT') {
            this.revoked.add(entry.key);
            for (const l of this.listeners) l.revoked?.(entry.key);
          } else this.revoked.delete(entry.key);
          if (entry.delta === 0 || entry.isUpdate) this.markReady();
        }
      } catch (err) {
        if (this.stopped) return;
        this.logger.debug({ err: (err as Error).message }, 'revocations bucket not available yet');
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, 250));
    }
  }

  private markReady(): void {
    if (this.ready) return;
    this.ready = true;
    for (const w of this.readyWaiters.splice(0)) w();
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
    this.stopped = true;
    this.watch?.stop();
  }
}
