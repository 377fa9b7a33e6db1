import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { KV } from '@nats-io/kv';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { Bus, ensureBucket } from '@vmcp/messaging';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';

/** Entries outlive the longest token (24 h), so a revoked token never comes back. */
const REVOCATION_TTL_MS = 25 * 60 * 60 * 1000;

/** Key prefix of a tenant's change mark: `chg.<tenant_id>`. */
export const TENANT_CHANGE_PREFIX = 'chg.';

/**
 * The revocations bucket every edge replica watches: `tok_…` for revoked session tokens,
 * `cfg_…` for deleted configs, and `chg.<tenant_id>` marks: something that decides what a
 * tenant's users may see or call changed (a config, connection, account status or an
 * upstream tool list), so every edge drops the tenant's cached tool lists and decisions.
 */
@Injectable()
export class RevocationsKv implements OnModuleInit {
  private kv?: KV;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly bus: Bus,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    this.kv = await ensureBucket(this.bus, this.config.revocationsBucket, { history: 1, ttl: REVOCATION_TTL_MS });
  }

  async revoke(key: string): Promise<void> {
    if (!this.kv) throw new Error('revocations bucket not open');
    await this.kv.put(key, new Date().toISOString());
  }

  /**
   * Marks a tenant changed, after the change is committed (an edge that refetches must see
   * it). Never throws: the change stands, and edges' cache lifetime bounds a missed mark.
   */
  async touchTenant(tenantId: string): Promise<void> {
    try {
      await this.revoke(`${TENANT_CHANGE_PREFIX}${tenantId}`);
    } catch (err) {
      this.logger.warn({ tenant_id: tenantId, err: (err as Error).message }, 'tenant change mark not written; edge caches expire on their own');
    }
  }
}
