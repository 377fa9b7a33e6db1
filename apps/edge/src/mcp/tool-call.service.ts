import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import {
  executor,
  isVmcpError,
  newId,
  policy,
  VmcpError,
  type AuditEvent,
  type CallContext,
  type CallToolResult,
  type Decision,
  type SessionPrincipal,
} from '@vmcp/contracts';
import { ArgumentValidator, type CallLog, type CallProgress, type ClientRequestAnswer } from '@vmcp/connectors';
import { Bus, ensureAuditStream, publishAuditEvent } from '@vmcp/messaging';
import { VMCP_LOGGER } from '@vmcp/runtime';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { tracer, type Logger } from '@vmcp/telemetry';
import { argumentsFields, resultFields } from './audit-payloads.js';
import { isPermitted, permittedCapabilities } from './client-requests.service.js';
import { DecisionCache } from './decision-cache.js';
import { ToolCallMeter } from './tool-call.meter.js';

/** A tenant backend's call by connection (execute_tool with `connection_name`): no config. */
export interface ConnectionPrincipal {
  readonly tenant_id: string;
  readonly connection_name: string;
  readonly identifier: string;
}

export interface CallRequest {
  /** Through a config (MCP, or execute_tool with `config_id`), or straight on one connection. */
  readonly principal: SessionPrincipal | ConnectionPrincipal;
  readonly toolName: string;
  readonly arguments: Record<string, unknown>;
  readonly source: 'mcp' | 'api';
  readonly agentRunId?: string | null;
  /** Aborted when the agent cancels the call or goes away: the executor is told to stop it. */
  readonly signal?: AbortSignal;
  /** The agent asked for progress: the upstream's notifications of this call, in order, before the result. */
  readonly onProgress?: (progress: CallProgress) => void;
  /** The agent asked for log messages at this level or above: the upstream's, of this call, in order, before the result. */
  readonly logs?: { readonly minLevel: executor.LoggingLevel; readonly onLog: (log: CallLog) => void };
  /**
   * The agent can be asked these things during the call (a 2025-era session's sampling and
   * elicitation capabilities; the call's config may allow fewer): the upstream's requests
   * reach `ask`, whose answer goes back. `signal` aborts when the call ends.
   */
  readonly clientRequests?: {
    readonly capabilities: executor.RelayedCapabilities;
    readonly ask: (method: executor.ClientRequestMethod, params: Record<string, unknown>, signal: AbortSignal) => Promise<ClientRequestAnswer>;
  };
}

export interface CallOutcome {
  readonly executionId: string;
  readonly result: CallToolResult;
}

function cancelled(): VmcpError {
  return new VmcpError('CANCELLED', 'the call was cancelled by the client');
}

function byConfig(p: SessionPrincipal | ConnectionPrincipal): p is SessionPrincipal {
  return 'config_id' in p;
}

/** Extra time the edge waits beyond the tool's own deadline, for the executor's reply to arrive. */
const EXECUTOR_REPLY_MARGIN_MS = 2000;
/** At most one attempt to make the AUDIT stream again per this interval. */
const STREAM_REPAIR_INTERVAL_MS = 5000;

/**
 * One tool call, the same for MCP and REST: policy decides, the "started" record is
 * accepted by JetStream, only then the executor runs it; the outcome is recorded.
 * Every failure is a VmcpError with a stable code; nothing is called unchecked.
 */
@Injectable()
export class ToolCallService implements OnApplicationShutdown {
  private readonly pendingAudit = new Set<Promise<void>>();
  private repairing?: Promise<void>;
  private lastRepair = 0;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly bus: Bus,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
    private readonly cache: DecisionCache,
    private readonly validator: ArgumentValidator,
  ) {}

  /** One trace per call: every hop below (policy, audit, executor, vault) joins it. */
  call(req: CallRequest): Promise<CallOutcome> {
    return tracer().startActiveSpan(
      'tools/call',
      { kind: SpanKind.SERVER, attributes: { 'vmcp.tool_name': req.toolName.slice(0, 128), 'vmcp.source': req.source, 'vmcp.tenant_id': req.principal.tenant_id } },
      async (span) => {
        const meter = new ToolCallMeter(req.toolName);
        try {
          const outcome = await this.run(req, meter);
          meter.succeeded(outcome.result.isError);
          span.setAttribute('vmcp.execution_id', outcome.executionId);
          return outcome;
        } catch (err) {
          meter.failed();
          span.setStatus({ code: SpanStatusCode.ERROR, message: isVmcpError(err) ? err.code : 'INTERNAL' });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  }

  private async run(req: CallRequest, meter: ToolCallMeter): Promise<CallOutcome> {
    const executionId = newId('exe');
    const startedAt = new Date();
    const facts = (context: CallContext | null) => ({
      execution_id: executionId,
      tenant_id: req.principal.tenant_id,
      config_id: context ? context.config_id : byConfig(req.principal) ? req.principal.config_id : null,
      connection_name: context?.connection_name ?? (byConfig(req.principal) ? null : req.principal.connection_name),
      connector: context?.connector ?? null,
      connected_account_id: context?.connected_account_id ?? null,
      identifier: req.principal.identifier,
      tool_name: req.toolName.slice(0, 256),
      source: req.source,
      agent_run_id: req.agentRunId ?? null,
      started_at: startedAt.toISOString(),
    });

    let decision;
    try {
      decision = await this.decide(req, meter);
    } catch (err) {
      // Fail closed: without an allow decision there is no call, and the refusal is recorded.
      const error = isVmcpError(err) ? err : new VmcpError('INTERNAL', 'policy decision failed');
      this.recordLater({
        ...facts(null),
        type: 'denied',
        event_id: newId('evt'),
        ...this.finish(startedAt),
        error_code: error.code,
        error_message: error.message,
        ...argumentsFields(req.arguments, false),
      });
      throw error;
    }
    meter.decided(decision);

    if (decision.decision === 'deny') {
      this.recordLater({
        ...facts(decision.context),
        type: 'denied',
        event_id: newId('evt'),
        ...this.finish(startedAt),
        error_code: decision.reason,
        error_message: decision.message,
        ...argumentsFields(req.arguments, decision.context.capture_payloads === true),
      });
      throw new VmcpError(decision.reason, decision.message);
    }

    const base = facts(decision.context);
    // Sizes and digests always; the payloads themselves (redacted) only where the config opts in.
    const capture = decision.context.capture_payloads === true;
    // Audit before effect: the call goes nowhere until JetStream has the "started" record.
    try {
      await meter.hop(
        'audit_started',
        publishAuditEvent(this.bus, this.config.auditStream, { ...base, type: 'started', event_id: newId('evt'), ...argumentsFields(req.arguments, capture) }),
      );
    } catch (err) {
      // A publish that timed out may still be stored later (a buffered message after a
      // reconnect): the refusal is recorded too, so such a call never stays STARTED.
      const error = isVmcpError(err) ? err : new VmcpError('UNAVAILABLE', 'audit log unavailable');
      this.recordLater({ ...base, type: 'denied', event_id: newId('evt'), ...this.finish(startedAt), error_code: error.code, error_message: error.message });
      this.repairAuditStream();
      throw error;
    }

    const timeoutMs = decision.timeout_ms ?? this.config.toolTimeoutMs;
    // Subscribed before the call is sent (same connection, so in order): no progress or log message is missed.
    const progress = req.onProgress
      ? this.bus.subscribe(executor.callProgress, ({ execution_id: _id, ...p }) => req.onProgress?.(p), { token: executionId })
      : undefined;
    const logs = req.logs ? this.bus.subscribe(executor.callLog, ({ execution_id: _id, ...log }) => req.logs?.onLog(log), { token: executionId }) : undefined;
    // Only what the agent declared and the config allows: the upstream session is offered no
    // more, and a request for anything else is refused here too, whatever reaches the edge.
    const capabilities = req.clientRequests && permittedCapabilities(req.clientRequests.capabilities, decision.context.client_requests);
    const relay = req.clientRequests && capabilities ? { ...req.clientRequests, capabilities } : undefined;
    // The upstream's requests to the agent come from the executor running the call; what is
    // still being asked when the call ends is dropped. (Only calls that relay them have one:
    // aborting builds a DOMException, 1.7 % of the edge's CPU when every call did.)
    const ended = relay ? new AbortController() : undefined;
    const asks =
      relay && ended
        ? this.bus.serve(executor.clientRequest, executionId, ({ method, params }) =>
            isPermitted(method, relay.capabilities)
              ? relay.ask(method, params, req.signal ? AbortSignal.any([req.signal, ended.signal]) : ended.signal)
              : Promise.resolve({ refused: { code: -32601, message: `${method} is not allowed for this call` } }),
          )
        : undefined;
    try {
      if (req.signal?.aborted) throw cancelled();
      const execution = this.bus.request(
        executor.callTool,
        {
          tenant_id: req.principal.tenant_id,
          execution_id: executionId,
          connection: decision.connection,
          account_id: decision.connected_account_id,
          grant: decision.grant,
          tool_name: decision.upstream_tool_name,
          arguments: req.arguments,
          timeout_ms: timeoutMs,
          ...(req.onProgress ? { progress: true as const } : {}),
          ...(req.logs ? { logs: req.logs.minLevel } : {}),
          ...(relay ? { client_capabilities: relay.capabilities } : {}),
        },
        { timeoutMs: timeoutMs + EXECUTOR_REPLY_MARGIN_MS },
      );
      const { result } = await meter.hop('execute', req.signal ? this.untilCancelled(execution, req.signal, executionId) : execution);
      this.recordLater({
        ...base,
        type: 'finished',
        event_id: newId('evt'),
        ...this.finish(startedAt),
        status: result.isError ? 'ERROR' : 'SUCCESS',
        error_code: result.isError ? 'UPSTREAM_ERROR' : null,
        // The result itself is described by its digest (and captured only on opt-in).
        error_message: result.isError ? 'the tool returned an error result' : null,
      }, () => resultFields(result, capture));
      return { executionId, result };
    } catch (err) {
      const error = isVmcpError(err) ? err : new VmcpError('INTERNAL', 'tool execution failed');
      this.recordLater({
        ...base,
        type: 'finished',
        event_id: newId('evt'),
        ...this.finish(startedAt),
        status: 'ERROR',
        error_code: error.code,
        error_message: error.message,
      });
      throw error;
    } finally {
      ended?.abort();
      asks?.unsubscribe();
      progress?.unsubscribe();
      logs?.unsubscribe();
    }
  }

  /**
   * The executor's answer, unless the agent cancels first: then every executor is told to
   * stop this execution (the one running it cancels it upstream) and the call ends at once
   * with CANCELLED, without waiting for the executor.
   */
  private untilCancelled<T>(work: Promise<T>, signal: AbortSignal, executionId: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        try {
          this.bus.publish(executor.cancelCall, { execution_id: executionId });
        } catch (err) {
          this.logger.warn({ execution_id: executionId, err: (err as Error).message.slice(0, 200) }, 'cancellation not published');
        }
        reject(cancelled());
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /**
   * Policy's decision, or the edge's copy of an earlier allow for the same user, config and
   * tool (see DecisionCache), with these arguments checked against the tool's schema here
   * exactly as policy would.
   */
  private async decide(req: CallRequest, meter: ToolCallMeter): Promise<Decision> {
    const { principal } = req;
    const scope = byConfig(principal) ? principal.config_id : `conn:${principal.connection_name}`;
    const cached = this.cache.decision(principal.tenant_id, scope, principal.identifier, req.toolName);
    if (cached?.input_schema) {
      const problem = this.validator.check(cached.input_schema, req.arguments);
      if (!problem) return cached;
      return { decision: 'deny', context: cached.context, reason: 'INVALID_ARGUMENT', message: `invalid arguments for ${req.toolName}: ${problem}` };
    }
    const generation = this.cache.generation(principal.tenant_id);
    const call = { tool_name: req.toolName, arguments: req.arguments };
    const decision = await meter.hop(
      'decide',
      byConfig(principal)
        ? this.bus.request(policy.decide, { ...principal, ...call })
        : this.bus.request(policy.decideByConnection, { ...principal, ...call }),
    );
    if (decision.decision === 'allow') this.cache.rememberDecision(principal.tenant_id, scope, principal.identifier, req.toolName, generation, decision);
    return decision;
  }

  private finish(startedAt: Date) {
    const finishedAt = new Date();
    return { finished_at: finishedAt.toISOString(), duration_ms: Math.max(0, finishedAt.getTime() - startedAt.getTime()) };
  }

  /**
   * Outcome records do not hold up the agent's reply, but they are retried until
   * JetStream accepts them (de-duplicated by event id) and awaited on shutdown.
   * `more` (the result's digest, which can take a while on a large result) is computed
   * after the reply has gone out.
   */
  /**
   * The AUDIT stream may have been deleted or lost with a NATS store: it is made again (at
   * most every few seconds), so calls work again without a restart. Never throws.
   */
  private repairAuditStream(): void {
    if (this.repairing || Date.now() - this.lastRepair < STREAM_REPAIR_INTERVAL_MS) return;
    this.lastRepair = Date.now();
    this.repairing = ensureAuditStream(this.bus, this.config.auditStream, { maxAgeMs: this.config.auditStreamMaxAgeMs, reconfigure: false })
      .catch((err: Error) => this.logger.warn({ err: err.message.slice(0, 200) }, 'audit stream could not be ensured'))
      .finally(() => (this.repairing = undefined));
  }

  private recordLater(event: AuditEvent, more?: () => Partial<AuditEvent>): void {
    const task = this.publishWithRetry(event, more).finally(() => this.pendingAudit.delete(task));
    this.pendingAudit.add(task);
  }

  private async publishWithRetry(first: AuditEvent, more?: () => Partial<AuditEvent>): Promise<void> {
    let event = first;
    if (more) {
      await new Promise((r) => setImmediate(r));
      event = { ...first, ...more() } as AuditEvent;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await publishAuditEvent(this.bus, this.config.auditStream, event);
        return;
      } catch (err) {
        if (attempt >= 20) {
          this.logger.error({ execution_id: event.execution_id, type: event.type, err: (err as Error).message }, 'audit record lost');
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.pendingAudit]);
  }
}
