import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { executor, isVmcpError, vault } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import type { Subscription } from '@nats-io/transport-node';
import { AccountsService } from './accounts.service.js';

/**
 * The vault found an OAuth account unusable (its refresh was refused), or a provider
 * refused an account's credential for good (the executor says so): the account becomes EXPIRED, so tools/list stops offering its tools and calls are refused with
 * ACCOUNT_NOT_ACTIVE until the user authorizes again. One policy replica handles each event.
 */
@Injectable()
export class AccountExpiredListener implements OnModuleInit, OnModuleDestroy {
  private subscriptions: Subscription[] = [];

  constructor(
    private readonly bus: Bus,
    private readonly accounts: AccountsService,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.subscriptions = [
      this.bus.subscribe(vault.accountExpired, (e) => this.expire(e.tenant_id, e.account_id), { queue: 'policy' }),
      // A provider refused the credential itself (a revoked token, a changed password).
      this.bus.subscribe(executor.credentialRefused, (e) => this.expire(e.tenant_id, e.account_id), { queue: 'policy' }),
    ];
  }

  onModuleDestroy(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }

  private expire(tenantId: string, accountId: string): void {
    this.accounts.setStatus(tenantId, accountId, 'EXPIRED').catch((err: unknown) => {
      // A deleted account has nothing to expire; anything else is worth an operator's look.
      if (isVmcpError(err) && err.code === 'NOT_FOUND') return;
      this.logger.error({ account_id: accountId, err: (err as Error).message }, 'could not mark the account EXPIRED');
    });
  }
}
