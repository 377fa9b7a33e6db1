import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { policy, vault } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import { ConnectorRegistry } from '../connectors/connector-registry.service.js';

/**
 * Drops pooled upstream sessions, and the credentials inside them, the moment an account
 * or a connection changes (disconnected, re-credentialed, refreshed, edited, deleted),
 * whatever its new status. A plain subscription, not a queue group: every executor
 * replica holds its own sessions and must hear every change.
 */
@Injectable()
export class EvictOnChangeListener implements OnModuleInit, OnModuleDestroy {
  private subscriptions: Array<ReturnType<Bus['subscribe']>> = [];

  constructor(
    private readonly bus: Bus,
    private readonly connectors: ConnectorRegistry,
  ) {}

  onModuleInit(): void {
    this.subscriptions = [
      this.bus.subscribe(policy.accountChanged, (e) => this.connectors.forget({ accountId: e.account_id })),
      this.bus.subscribe(policy.connectionChanged, (e) => this.connectors.forget({ connectionId: e.connection_id })),
      // A refreshed token or a rotated data key: what the pooled sessions hold is stale.
      this.bus.subscribe(vault.credentialChanged, (e) => this.connectors.forget(e.account_id ? { accountId: e.account_id } : { tenantId: e.tenant_id })),
    ];
  }

  onModuleDestroy(): void {
    for (const s of this.subscriptions) s.unsubscribe();
    this.subscriptions = [];
  }
}
