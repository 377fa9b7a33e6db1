import { Inject, Injectable } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { isVmcpError, type executor, type RpcReply, type RpcRequestParsed } from '@vmcp/contracts';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import { ConnectorRegistry } from '../connectors/connector-registry.service.js';

type ListToolsRequest = RpcRequestParsed<typeof executor.listConnectionTools>;
type ListToolsReply = RpcReply<typeof executor.listConnectionTools>;

// Room for the reply's way back, so the caller gets our error rather than its own timeout.
const REPLY_MARGIN_MS = 250;

/** How long a discovery may take: the caller waits one bus timeout for the answer. */
export function listBudgetMs(busTimeoutMs: number): number {
  return Math.max(100, busTimeoutMs - REPLY_MARGIN_MS);
}

/** The tools a connection offers to one connected account, as its connector discovers them. */
@Injectable()
export class ListToolsHandler {
  private readonly timeoutMs: number;

  constructor(
    private readonly connectors: ConnectorRegistry,
    @Inject(VMCP_CONFIG) config: VmcpConfig,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {
    this.timeoutMs = listBudgetMs(config.busTimeoutMs);
  }

  async handle(req: ListToolsRequest): Promise<ListToolsReply> {
    const ctx = { tenantId: req.tenant_id, connection: req.connection, accountId: req.account_id, grant: req.grant };
    try {
      return { tools: await this.connectors.for(req.connection).listTools(ctx, { timeoutMs: this.timeoutMs }) };
    } catch (err) {
      this.logger.warn({ connection_id: req.connection.id, account_id: req.account_id, code: isVmcpError(err) ? err.code : 'INTERNAL' }, 'tool discovery failed');
      throw err;
    }
  }
}
