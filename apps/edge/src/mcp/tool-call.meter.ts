import type { CallContext, Decision } from '@vmcp/contracts';
import { metrics, secondsSince, type ToolCallHop, type VmcpMetrics } from '@vmcp/telemetry';

/**
 * The metrics of one tools/call: the time of each hop as it ends, and at the end one
 * count with the outcome. The tool is a label only once policy resolved it, so names an
 * agent makes up never become series.
 */
export class ToolCallMeter {
  private readonly started = performance.now();
  private context: CallContext | null = null;
  private allowed = false;
  private resolved = false;
  private ended = false;

  constructor(
    private readonly toolName: string,
    private readonly registry: VmcpMetrics = metrics(),
  ) {}

  /** Awaits one hop and records how long it took, whether it succeeded or not. */
  async hop<T>(hop: Exclude<ToolCallHop, 'total'>, work: Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work;
    } finally {
      this.registry.toolCalls.hop(hop, secondsSince(started));
    }
  }

  /** Policy's answer: what it resolved, and whether the call may go on. */
  decided(decision: Decision): void {
    this.context = decision.context;
    this.allowed = decision.decision === 'allow';
    // Policy found the tool in the connection's catalog: allowed, or refused for its arguments.
    // Other refusals (unknown tool, inactive account) may carry any name the agent sent.
    this.resolved = this.allowed || (decision.decision === 'deny' && decision.reason === 'INVALID_ARGUMENT' && decision.context.connection_name !== null);
  }

  /** The call ended with the executor's result. */
  succeeded(isError: boolean | undefined): void {
    this.end(isError ? 'ERROR' : 'SUCCESS');
  }

  /** The call ended with an error: a refusal before the allow decision, an error after it. */
  failed(): void {
    this.end(this.allowed ? 'ERROR' : 'DENIED');
  }

  private end(status: 'SUCCESS' | 'ERROR' | 'DENIED'): void {
    if (this.ended) return;
    this.ended = true;
    const connector = this.context?.connector ?? null;
    this.registry.toolCalls.count({ tool: this.resolved ? this.toolName : null, connector, status });
    this.registry.toolCalls.hop('total', secondsSince(this.started));
  }
}
