import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import { executor, policy, vault, VmcpError, type CallToolResult, type ConnectionTarget, type ToolDefinition } from '@vmcp/contracts';
import { McpUpstreamPool } from '@vmcp/connectors';
import { Bus } from '@vmcp/messaging';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';

/**
 * The executor's connectors. Only `mcp` exists so far; it keeps one upstream session per
 * connected account, holding that account's credential, dropped when the account or
 * connection changes.
 */
@Injectable()
export class UpstreamsService implements OnModuleInit, OnModuleDestroy {
  private readonly pool: McpUpstreamPool;
  private subscriptions: Subscription[] = [];

  constructor(
    private readonly bus: Bus,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {
    this.pool = new McpUpstreamPool({
      resolveCredential: async (tenant_id, account_id) => (await this.bus.request(vault.resolveCredential, { tenant_id, account_id })).secret,
      onToolsChanged: (tenant_id, connection_id, account_id) => this.bus.publish(executor.toolsChanged, { tenant_id, connection_id, account_id }),
    });
  }

  onModuleInit(): void {
    this.subscriptions = [
      this.bus.subscribe(policy.accountChanged, (e) => this.pool.evictAccount(e.account_id)),
      this.bus.subscribe(policy.connectionChanged, (e) => this.pool.evictConnection(e.connection_id)),
    ];
  }

  async onModuleDestroy(): Promise<void> {
    for (const s of this.subscriptions) s.unsubscribe();
    await this.pool.closeAll();
  }

  private check(target: ConnectionTarget): void {
    if (target.connector !== 'mcp') throw new VmcpError('FAILED_PRECONDITION', `connector "${target.connector}" is not available in this executor`);
  }

  async listTools(tenantId: string, target: ConnectionTarget, accountId: string | null): Promise<ToolDefinition[]> {
    this.check(target);
    return this.pool.listTools(tenantId, target, accountId);
  }

  async callTool(
    tenantId: string,
    executionId: string,
    target: ConnectionTarget,
    accountId: string,
    name: string,
    args: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<CallToolResult> {
    this.check(target);
    try {
      return await this.pool.callTool(tenantId, target, accountId, name, args, timeoutMs);
    } catch (err) {
      this.logger.info({ execution_id: executionId, connection_id: target.id, code: (err as VmcpError).code }, 'tool call failed');
      throw err;
    }
  }
}
