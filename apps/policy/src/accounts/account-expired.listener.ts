import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { isVmcpError, vault } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import type { Subscription } from '@nats-io/transport-node';
import { AccountsService } from './accounts.service.js';

/**
 * The vault found an OAuth account unusable (its refresh was refused): the account
 * becomes EXPIRED, so tools/list stops offering its tools and calls are refused with
 * ACCOUNT_NOT_ACTIVE until the user authorizes again. One policy replica handles each event.
 */
@Injectable()
export class AccountExpiredListener implements OnModuleInit, OnModuleDestroy {
  private subscription?: Subscription;

  constructor(
    private readonly bus: Bus,
    private readonly accounts: AccountsService,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.subscription = this.bus.subscribe(
      vault.accountExpired,
      (e) => {
        this.accounts.setStatus(e.tenant_id, e.account_id, 'EXPIRED').catch((err: unknown) => {
          // A deleted account has nothing to expire; anything else is worth an operator's look.
          if (isVmcpError(err) && err.code === 'NOT_FOUND') return;
          this.logger.error({ account_id: e.account_id, err: (err as Error).message }, 'could not mark the account EXPIRED');
        });
      },
      { queue: 'policy' },
    );
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}
