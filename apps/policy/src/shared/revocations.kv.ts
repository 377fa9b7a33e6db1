import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Kvm, type KV } from '@nats-io/kv';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { Bus } from '@vmcp/messaging';

/** Entries outlive the longest token (24 h), so a revoked token never comes back. */
const REVOCATION_TTL_MS = 25 * 60 * 60 * 1000;

/**
 * The revocations bucket every edge replica watches: `tok_…` for revoked session tokens,
 * `cfg_…` for deleted configs.
 */
@Injectable()
export class RevocationsKv implements OnModuleInit {
  private kv?: KV;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly bus: Bus,
  ) {}

  async onModuleInit(): Promise<void> {
    this.kv = await new Kvm(this.bus.connection).create(this.config.revocationsBucket, { history: 1, ttl: REVOCATION_TTL_MS });
  }

  async revoke(key: string): Promise<void> {
    if (!this.kv) throw new Error('revocations bucket not open');
    await this.kv.put(key, new Date().toISOString());
  }
}
