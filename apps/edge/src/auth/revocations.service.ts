import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Kvm, type KV } from '@nats-io/kv';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { Bus } from '@vmcp/messaging';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';

/**
 * Revoked token ids and deleted config ids, mirrored from the revocations KV bucket that
 * policy writes. Every edge replica watches it, so a revocation is seen everywhere within
 * milliseconds without a bus hop per request.
 */
@Injectable()
export class RevocationsService implements OnApplicationShutdown {
  private readonly revoked = new Set<string>();
  private ready = false;
  private stopped = false;
  private readyWaiters: Array<() => void> = [];
  private watch?: { stop(): void };

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
        // An empty bucket has no last value to signal the end of the initial load.
        if ((await kv.status()).values === 0) this.markReady();
        for await (const entry of watch) {
          if (entry.operation === 'PUT') this.revoked.add(entry.key);
          else this.revoked.delete(entry.key);
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
