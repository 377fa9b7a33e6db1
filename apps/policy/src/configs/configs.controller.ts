import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { policy } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { ConfigsService } from './configs.service.js';

@Controller()
export class ConfigsController {
  constructor(private readonly configs: ConfigsService) {}

  @MessagePattern(policy.createConfig.subject)
  create(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.createConfig, data, ctx, async ({ tenant_id, ...input }) => ({ config: await this.configs.create(tenant_id, input) }));
  }

  @MessagePattern(policy.listConfigs.subject)
  list(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.listConfigs, data, ctx, (req) => this.configs.list(req.tenant_id, req.page_size, req.page_token));
  }

  @MessagePattern(policy.getConfig.subject)
  get(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.getConfig, data, ctx, async (req) => ({
      config: await this.configs.toConfig(await this.configs.entity(req.tenant_id, req.config_id)),
    }));
  }

  @MessagePattern(policy.replaceConfig.subject)
  replace(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.replaceConfig, data, ctx, async ({ tenant_id, config_id, ...input }) => ({
      config: await this.configs.replace(tenant_id, config_id, input),
    }));
  }

  @MessagePattern(policy.deleteConfig.subject)
  remove(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.deleteConfig, data, ctx, async (req) => {
      await this.configs.remove(req.tenant_id, req.config_id);
      return { config_id: req.config_id, deleted: true as const };
    });
  }

  @MessagePattern(policy.configAccounts.subject)
  accounts(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(policy.configAccounts, data, ctx, (req) => this.configs.accountStates(req.tenant_id, req.config_id, req.identifier));
  }
}
