import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { executor, isVmcpError, type RpcReply, type RpcRequestParsed } from '@vmcp/contracts';
import type { CallLog, CallProgress, ClientRequestRelay } from '@vmcp/connectors';
import { Bus } from '@vmcp/messaging';
import { VMCP_LOGGER } from '@vmcp/runtime';
import { metrics, secondsSince, type Logger } from '@vmcp/telemetry';
import { ConnectorRegistry } from '../connectors/connector-registry.service.js';
import { RunningCalls } from './running-calls.js';

type CallToolRequest = RpcRequestParsed<typeof executor.callTool>;
type CallToolReply = RpcReply<typeof executor.callTool>;

/** Log messages of one call passed on at most; the rest are counted, and said so in one last message. */
export const MAX_LOGS_PER_CALL = 100;

/**
 * Runs one call that policy allowed, under the account's own credential, within the
 * caller's timeout. The result is the upstream's, unchanged. When the edge asked for
 * progress, or log messages, they are published per call as they come; when its agent can be
 * asked (sampling, elicitation), the upstream's requests go to that edge and the agent's
 * answers back upstream. A cancellation for the call (heard by every replica) aborts it,
 * which cancels it upstream too.
 */
@Injectable()
export class CallToolHandler implements OnModuleInit, OnModuleDestroy {
  private readonly running = new RunningCalls();
  private subscription?: ReturnType<Bus['subscribe']>;

  constructor(
    private readonly connectors: ConnectorRegistry,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
    private readonly bus: Bus,
  ) {}

  onModuleInit(): void {
    // No queue group: only the replica that runs the call can stop it, and it is not known which.
    this.subscription = this.bus.subscribe(executor.cancelCall, (e) => void this.running.cancel(e.execution_id));
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  async handle(req: CallToolRequest): Promise<CallToolReply> {
    const ctx = { tenantId: req.tenant_id, connection: req.connection, accountId: req.account_id, grant: req.grant };
    const started = performance.now();
    const call = this.running.start(req.execution_id);
    let settled = false;
    let eventsSent = false;
    const onProgress = req.progress
      ? (p: CallProgress) => {
          if (settled) return;
          eventsSent = true;
          this.bus.publish(executor.callProgress, { execution_id: req.execution_id, ...p }, { token: req.execution_id });
        }
      : undefined;
    const minLevel = req.logs;
    let logsSent = 0;
    let logsDropped = 0;
    const onLog = minLevel
      ? (log: CallLog) => {
          if (settled || !executor.logLevelPasses(log.level, minLevel)) return;
          if (logsSent >= MAX_LOGS_PER_CALL) {
            logsDropped++;
            return;
          }
          logsSent++;
          eventsSent = true;
          this.bus.publish(executor.callLog, { execution_id: req.execution_id, ...log }, { token: req.execution_id });
        }
      : undefined;
    // The upstream's requests during the call go to the edge holding it, which asks the agent;
    // they wait no longer than the call's own deadline.
    const deadlineAt = Date.now() + req.timeout_ms;
    const capabilities = req.client_capabilities;
    const clientRequests: ClientRequestRelay | undefined = capabilities
      ? {
          capabilities,
          relay: (method, params, signal) =>
            this.bus.request(
              executor.clientRequest,
              { execution_id: req.execution_id, method, params },
              { token: req.execution_id, timeoutMs: Math.max(1, deadlineAt - Date.now()), signal: AbortSignal.any([call.signal, signal]) },
            ),
        }
      : undefined;
    try {
      const result = await this.connectors.for(req.connection).callTool(ctx, req.tool_name, req.arguments, {
        timeoutMs: req.timeout_ms,
        signal: call.signal,
        ...(onProgress ? { onProgress } : {}),
        ...(onLog ? { onLog } : {}),
        ...(clientRequests ? { clientRequests } : {}),
      });
      metrics().executor.call(req.connection.connector, secondsSince(started), { toolError: result.isError === true });
      if (logsDropped > 0) this.publishDropped(req.execution_id, logsDropped, minLevel);
      // The reply leaves on another connection: progress and logs must be at the server first, so
      // the edge gets every notification before the result.
      if (eventsSent) await this.bus.flush().catch(() => undefined);
      return { result };
    } catch (err) {
      metrics().executor.call(req.connection.connector, secondsSince(started), { error: err });
      // Ids and the code only: arguments, results and upstream text stay out of the logs.
      this.logger.warn(
        { execution_id: req.execution_id, connection_id: req.connection.id, tool_name: req.tool_name, code: isVmcpError(err) ? err.code : 'INTERNAL' },
        'tool call failed',
      );
      throw err;
    } finally {
      settled = true;
      call.done();
    }
  }

  /** One last message in place of those beyond the per-call bound, when the agent's level lets a warning through. */
  private publishDropped(executionId: string, dropped: number, minLevel: executor.LoggingLevel | undefined): void {
    if (!minLevel || !executor.logLevelPasses('warning', minLevel)) return;
    const data = `${dropped} more log message(s) of this call were not relayed (at most ${MAX_LOGS_PER_CALL} per call)`;
    this.bus.publish(executor.callLog, { execution_id: executionId, level: 'warning', logger: 'vmcp', data }, { token: executionId });
  }
}
