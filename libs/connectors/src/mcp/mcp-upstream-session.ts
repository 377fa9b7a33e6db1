import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { executor, ToolDefinition, type CallToolResult } from '@vmcp/contracts';
import { VMCP_VERSION } from '@vmcp/telemetry';
import { z } from 'zod';
import type { CallProgress } from '../connector.js';
import { StoppedError, type Deadline } from '../shared/deadline.js';
import { sanitizeUpstreamText } from '../shared/sanitize.js';
import { MalformedAnswerError } from './upstream-errors.js';

export interface UpstreamSessionSpec {
  readonly url: URL;
  /** The credential headers; they live in this session's transport and nowhere else. */
  readonly headers: Record<string, string>;
  /** Credential strings to keep out of anything the upstream says back. */
  readonly secrets: readonly string[];
  readonly connectTimeoutMs: number;
  readonly onToolsChanged: () => void;
}

// Results are checked by vmcp's own (looser) contract schemas, so the SDK is told to
// accept any object: its stricter schemas would drop fields the agent is owed.
const AnyResult = z.looseObject({});
const ListPage = z.looseObject({ tools: z.array(z.unknown()), nextCursor: z.string().optional() });

const MAX_PAGES = 100;
const MAX_TOOLS = 10_000;
// The SDK's own timer stays behind ours: our signal decides, so a timeout is told apart
// from an upstream error that happens to use the same JSON-RPC code.
const SDK_TIMER_SLACK_MS = 1000;
// Ending the upstream session politely must not hold up anything.
const TERMINATE_WAIT_MS = 1000;

/**
 * One initialized MCP session with one upstream, under one account's credential: the
 * SDK client and its Streamable HTTP transport, plus the tool list it discovered.
 */
export class McpUpstreamSession {
  private tools: Promise<ToolDefinition[]> | undefined;

  private constructor(
    private readonly client: Client,
    private readonly transport: StreamableHTTPClientTransport,
    readonly secrets: readonly string[],
  ) {}

  /** Connects and initializes; a handshake slower than the connect timeout is a StoppedError('deadline'). */
  static async open(spec: UpstreamSessionSpec): Promise<McpUpstreamSession> {
    // Redirects stay on the upstream's origin (the SDK's default), so the credential
    // headers cannot be carried to another host.
    const transport = new StreamableHTTPClientTransport(spec.url, { requestInit: { headers: spec.headers } });
    // No client capabilities: an upstream cannot ask the gateway to sample, elicit or list roots.
    const client = new Client({ name: 'vmcp', version: VMCP_VERSION }, { capabilities: {} });
    const session = new McpUpstreamSession(client, transport, spec.secrets);
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      session.tools = undefined;
      spec.onToolsChanged();
    });
    const timer = AbortSignal.timeout(spec.connectTimeoutMs);
    try {
      await client.connect(transport, { signal: timer, timeout: spec.connectTimeoutMs + SDK_TIMER_SLACK_MS });
    } catch (err) {
      await client.close().catch(() => undefined);
      throw timer.aborted ? new StoppedError('deadline') : err;
    }
    return session;
  }

  /**
   * The upstream's tools, fetched once (every page) and kept until the upstream says its
   * list changed. Concurrent callers share one fetch, each waiting only within its own deadline.
   */
  listTools(deadline: Deadline): Promise<ToolDefinition[]> {
    if (!this.tools) {
      const fetching = this.fetchTools(deadline.remaining());
      this.tools = fetching;
      // A failed discovery is not kept; the next caller tries again.
      fetching.catch(() => {
        if (this.tools === fetching) this.tools = undefined;
      });
    }
    return deadline.race(this.tools);
  }

  /** Runs the tool and returns its result as the upstream sent it. */
  async callTool(name: string, args: Record<string, unknown>, deadline: Deadline, onProgress?: (p: CallProgress) => void): Promise<CallToolResult> {
    const raw = await this.request(
      { method: 'tools/call', params: { name, arguments: args } },
      AnyResult,
      deadline.remaining(),
      deadline.signal,
      onProgress && ((p) => onProgress(progressOf(p, this.secrets))),
    );
    const result = executor.CallToolResult.safeParse(raw);
    if (!result.success) throw new MalformedAnswerError('tools/call result');
    return result.data;
  }

  /** Ends the upstream session (DELETE, briefly waited for), then drops the connection and the credential with it. */
  async close(): Promise<void> {
    const giveUp = setTimeout(() => void this.client.close().catch(() => undefined), TERMINATE_WAIT_MS);
    try {
      await this.transport.terminateSession();
    } catch {
      // The upstream may be gone already; the session ends here either way.
    } finally {
      clearTimeout(giveUp);
      await this.client.close().catch(() => undefined);
    }
  }

  private async fetchTools(budgetMs: number): Promise<ToolDefinition[]> {
    const deadlineAt = Date.now() + budgetMs;
    const tools: ToolDefinition[] = [];
    const names = new Set<string>();
    const cursors = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await this.request({ method: 'tools/list', params: cursor ? { cursor } : {} }, ListPage, Math.max(1, deadlineAt - Date.now()));
      for (const candidate of res.tools) {
        // One tool that is not valid MCP (or repeats a name) is left out, rather than hiding all the others.
        const tool = ToolDefinition.safeParse(candidate);
        if (!tool.success || names.has(tool.data.name)) continue;
        names.add(tool.data.name);
        tools.push(tool.data);
      }
      if (tools.length > MAX_TOOLS) throw new MalformedAnswerError(`tools/list (more than ${MAX_TOOLS} tools)`);
      if (!res.nextCursor) return tools;
      if (cursors.has(res.nextCursor)) throw new MalformedAnswerError('tools/list pagination (a cursor came back twice)');
      cursors.add(res.nextCursor);
      cursor = res.nextCursor;
    }
    throw new MalformedAnswerError(`tools/list pagination (more than ${MAX_PAGES} pages)`);
  }

  /** One JSON-RPC request; our own timer or the caller's signal end it, as a StoppedError. */
  private async request<S extends z.ZodType>(
    request: { method: 'tools/call'; params: { name: string; arguments: Record<string, unknown> } } | { method: 'tools/list'; params: { cursor?: string } },
    schema: S,
    timeoutMs: number,
    cancel?: AbortSignal,
    onprogress?: (progress: Progress) => void,
  ): Promise<z.output<S>> {
    const timer = AbortSignal.timeout(timeoutMs);
    // Aborting makes the SDK send notifications/cancelled, so the upstream can stop too.
    const signal = cancel ? AbortSignal.any([timer, cancel]) : timer;
    try {
      // With `onprogress` the SDK sends a progressToken. Progress never extends the call
      // (resetTimeoutOnProgress stays off, and our own timer ignores it): the deadline is absolute.
      const options = { signal, timeout: timeoutMs + SDK_TIMER_SLACK_MS, ...(onprogress ? { onprogress } : {}) };
      return (await this.client.request(request, schema, options)) as z.output<S>;
    } catch (err) {
      if (cancel?.aborted) throw new StoppedError('cancelled');
      if (timer.aborted) throw new StoppedError('deadline');
      throw err;
    }
  }
}

/** Bound of a progress message passed on (the bus contract allows 1000 characters). */
const MAX_PROGRESS_MESSAGE = 500;

/** The upstream's progress as passed on: numbers as sent, the message cleaned of credentials (or dropped). */
export function progressOf(p: Progress, secrets: readonly string[]): CallProgress {
  const message = typeof p.message === 'string' ? sanitizeUpstreamText(p.message, secrets, MAX_PROGRESS_MESSAGE) : undefined;
  return {
    progress: p.progress,
    ...(typeof p.total === 'number' && Number.isFinite(p.total) ? { total: p.total } : {}),
    ...(message ? { message } : {}),
  };
}
