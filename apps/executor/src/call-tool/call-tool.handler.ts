import { Inject, Injectable } from '@nestjs/common';
import { isVmcpError, type executor, type RpcReply, type RpcRequestParsed } from '@vmcp/contracts';
import { VMCP_LOGGER } from '@vmcp/runtime';
import { metrics, secondsSince, type Logger } from '@vmcp/telemetry';
import { ConnectorRegistry } from '../connectors/connector-registry.service.js';

type CallToolRequest = RpcRequestParsed<typeof executor.callTool>;
type CallToolReply = RpcReply<typeof executor.callTool>;

/**
 * Runs one call that policy allowed, under the account's own credential, within the
 * caller's timeout. The result is the upstream's, unchanged.
 */
@Injectable()
export class CallToolHandler {
  constructor(
    private readonly connectors: ConnectorRegistry,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  async handle(req: CallToolRequest): Promise<CallToolReply> {
    const ctx = { tenantId: req.tenant_id, connection: req.connection, accountId: req.account_id, grant: req.grant };
    const started = performance.now();
    try {
      const result = await this.connectors.for(req.connection).callTool(ctx, req.tool_name, req.arguments, { timeoutMs: req.timeout_ms });
      metrics().executor.call(req.connection.connector, secondsSince(started), { toolError: result.isError === true });
      return { result };
    } catch (err) {
      metrics().executor.call(req.connection.connector, secondsSince(started), { error: err });
      // Ids and the code only: arguments, results and upstream text stay out of the logs.
      this.logger.warn(
        { execution_id: req.execution_id, connection_id: req.connection.id, tool_name: req.tool_name, code: isVmcpError(err) ? err.code : 'INTERNAL' },
        'tool call failed',
      );
      throw err;
    }
  }
}
