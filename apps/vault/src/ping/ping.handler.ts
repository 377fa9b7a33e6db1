import { Injectable } from '@nestjs/common';
import type { ping, RpcReply } from '@vmcp/contracts';
import { DataSource, pingDataSource } from '@vmcp/persistence';
import { VMCP_VERSION } from '@vmcp/telemetry';

/** Ready means the vault can reach its database; /readyz on the edge asks every service. */
@Injectable()
export class PingHandler {
  constructor(private readonly ds: DataSource) {}

  async execute(): Promise<RpcReply<typeof ping.vault>> {
    return { service: 'vault', ready: await pingDataSource(this.ds), version: VMCP_VERSION };
  }
}
