import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { executor, vault, VmcpError, type ConnectionTarget } from '@vmcp/contracts';
import { createConnectors, type CacheScope, type Connector, type ConnectorsOptions } from '@vmcp/connectors';
import { Bus } from '@vmcp/messaging';
import { metrics } from '@vmcp/telemetry';

/**
 * The connectors of this executor, wired to the bus: credentials come from the vault
 * (the executor is its only caller), tool-list changes go out as events. Built by a
 * factory in ExecutorModule, so tests can shorten the connectors' timeouts.
 */
@Injectable()
export class ConnectorRegistry implements OnModuleDestroy {
  private readonly connectors: ReadonlyMap<string, Connector>;
  private readonly stopObserving: () => void;

  constructor(bus: Bus, options: ConnectorsOptions = {}) {
    this.connectors = createConnectors(
      {
        resolveCredential: (r) =>
          bus.request(vault.resolveCredential, {
            tenant_id: r.tenantId,
            account_id: r.accountId,
            grant: r.grant,
            ...(r.rejectedToken ? { rejected_token: r.rejectedToken } : {}),
          }),
        onToolsChanged: (c) => bus.publish(executor.toolsChanged, { tenant_id: c.tenantId, connection_id: c.connectionId, account_id: c.accountId }),
        onCredentialRefused: (r) => bus.publish(executor.credentialRefused, { tenant_id: r.tenantId, connection_id: r.connectionId, account_id: r.accountId }),
      },
      options,
    );
    this.stopObserving = metrics().executor.observeSessions(() =>
      [...this.connectors.values()].map((c) => ({ connector: c.id, sessions: c.sessions })),
    );
  }

  /** The connector that serves a connection, or FAILED_PRECONDITION if this build has none. */
  for(connection: ConnectionTarget): Connector {
    const connector = this.connectors.get(connection.connector);
    if (!connector) throw new VmcpError('FAILED_PRECONDITION', `connector "${connection.connector}" is not available in this executor`);
    return connector;
  }

  /** Drops every connector's cached state for an account or a connection. */
  forget(scope: CacheScope): void {
    for (const c of this.connectors.values()) c.forget(scope);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopObserving();
    await Promise.allSettled([...this.connectors.values()].map((c) => c.close()));
  }
}
