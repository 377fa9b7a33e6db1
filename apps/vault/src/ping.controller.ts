import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { ping } from '@vmcp/contracts';
import { serveRpc } from '@vmcp/messaging';
import { DataSource, pingDataSource } from '@vmcp/persistence';
import { VMCP_VERSION } from '@vmcp/telemetry';

@Controller()
export class PingController {
  constructor(private readonly ds: DataSource) {}

  @MessagePattern(ping.vault.subject)
  ping(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(ping.vault, data, ctx, async () => ({ service: 'vault' as const, ready: await pingDataSource(this.ds), version: VMCP_VERSION }));
  }
}
