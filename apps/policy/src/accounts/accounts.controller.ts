import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { policy } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { AccountsService } from './accounts.service.js';

@Controller()
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @MessagePattern(policy.prepareAccount.subject)
  prepare(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.prepareAccount, data, ctx, (req) => this.accounts.prepare(req.tenant_id, req.connection_name, req.identifier, req.flow));
  }

  @MessagePattern(policy.setAccountStatus.subject)
  setStatus(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.setAccountStatus, data, ctx, (req) => this.accounts.setStatus(req.tenant_id, req.account_id, req.status));
  }

  @MessagePattern(policy.listAccounts.subject)
  list(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.listAccounts, data, ctx, ({ tenant_id, page_size, page_token, ...filter }) =>
      this.accounts.list(tenant_id, filter, page_size, page_token),
    );
  }

  @MessagePattern(policy.getAccount.subject)
  get(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.getAccount, data, ctx, (req) => this.accounts.get(req.tenant_id, req.account_id));
  }
}
