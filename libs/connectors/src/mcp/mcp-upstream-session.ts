import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  McpError,
  ToolListChangedNotificationSchema,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'node:crypto';
import { executor, ToolDefinition, type CallToolResult } from '@vmcp/contracts';
import { metrics, VMCP_VERSION } from '@vmcp/telemetry';
import { z } from 'zod';
import type { CallLog, CallProgress, ClientRequestRelay } from '../connector.js';
import { StoppedError, type Deadline } from '../shared/deadline.js';
import { mayCarryCredential, sanitizeUpstreamText } from '../shared/sanitize.js';
import { CALL_MARKER_META_KEY, RequestStreamTap } from './request-stream-tap.js';
import { MalformedAnswerError } from './upstream-errors.js';
import { upstreamFetch } from './upstream-fetch.js';
import { UpstreamTransport } from './upstream-transport.js';

export interface UpstreamSessionSpec {
  readonly url: URL;
  /** The credential headers; they live in this session's transport and nowhere else. */
  readonly headers: Record<string, string>;
  /** Credential strings to keep out of anything the upstream says back. */
  readonly secrets: readonly string[];
  readonly connectTimeoutMs: number;
  readonly onToolsChanged: () => void;
  /**
   * What the session declares it can answer (an agent's sampling and elicitation
   * capabilities): the upstream's requests of those kinds are relayed to the call they came
   * on. Absent: none, and the upstream cannot ask anything.
   */
  readonly capabilities?: executor.RelayedCapabilities;
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
// Requests an upstream may put to the agent during one call; more are refused (each may be a model call the tenant pays for).
export const MAX_CLIENT_REQUESTS_PER_CALL = 16;
// Ending the upstream session politely must not hold up anything.
const TERMINATE_WAIT_MS = 1000;

/**
 * One initialized MCP session with one upstream, under one account's credential: the
 * SDK client and its Streamable HTTP transport, plus the tool list it discovered.
 */
export class McpUpstreamSession {
  private tools: Promise<ToolDefinition[]> | undefined;
  /** Where each running call that relays server-to-client requests sends them, by its marker, and how many it sent. */
  private readonly relays = new Map<string, { readonly relay: ClientRequestRelay['relay']; asked: number }>();

  private constructor(
    private readonly client: Client,
    private readonly transport: UpstreamTransport,
    private readonly tap: RequestStreamTap,
    readonly secrets: readonly string[],
  ) {}

  /** Connects and initializes; a handshake slower than the connect timeout is a StoppedError('deadline'). */
  static async open(spec: UpstreamSessionSpec): Promise<McpUpstreamSession> {
    // upstreamFetch follows redirects on the upstream's origin only, so the credential
    // headers cannot be carried to another host. The tap reads a call's log messages and
    // server requests off its own response stream (see RequestStreamTap).
    const tap = new RequestStreamTap(upstreamFetch());
    const transport = new UpstreamTransport(spec.url, { requestInit: { headers: spec.headers }, fetch: tap.fetch });
    // Only the agent's own sampling and elicitation capabilities that the call's config allows,
    // when its calls relay them (the pool keeps a session per set): never roots, and nothing
    // the agent cannot answer.
    const client = new Client({ name: 'vmcp', version: VMCP_VERSION }, { capabilities: { ...spec.capabilities } });
    const session = new McpUpstreamSession(client, transport, tap, spec.secrets);
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      session.tools = undefined;
      spec.onToolsChanged();
    });
    if (spec.capabilities?.sampling) {
      client.setRequestHandler(CreateMessageRequestSchema, (request, extra) => session.relay('sampling/createMessage', request.params, extra.requestId, extra.signal));
    }
    if (spec.capabilities?.elicitation) {
      client.setRequestHandler(ElicitRequestSchema, (request, extra) => session.relay('elicitation/create', request.params, extra.requestId, extra.signal) as never);
    }
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

  /**
   * Runs the tool and returns its result as the upstream sent it. With `onLog` or
   * `clientRequests` the request carries a marker of its own in `_meta`, by which the log
   * messages and server requests on its response stream are told apart from those of the
   * other calls on this session.
   */
  async callTool(
    name: string,
    args: Record<string, unknown>,
    deadline: Deadline,
    onProgress?: (p: CallProgress) => void,
    onLog?: (log: CallLog) => void,
    clientRequests?: ClientRequestRelay,
  ): Promise<CallToolResult> {
    const marker = onLog || clientRequests ? randomUUID() : undefined;
    let stop: (() => void) | undefined;
    if (marker) {
      const listening = this.tap.listen(
        marker,
        onLog &&
          ((params) => {
            const log = logOf(params, this.secrets);
            if (log) onLog(log);
          }),
      );
      if (clientRequests) this.relays.set(marker, { relay: clientRequests.relay, asked: 0 });
      stop = () => {
        listening();
        this.relays.delete(marker);
      };
    }
    let raw;
    try {
      raw = await this.request(
        { method: 'tools/call', params: { name, arguments: args, ...(marker ? { _meta: { [CALL_MARKER_META_KEY]: marker } } : {}) } },
        AnyResult,
        deadline.remaining(),
        deadline.signal,
        onProgress && ((p) => onProgress(progressOf(p, this.secrets))),
      );
    } finally {
      stop?.();
    }
    const result = executor.CallToolResult.safeParse(raw);
    if (!result.success) throw new MalformedAnswerError('tools/call result');
    return result.data;
  }

  /**
   * A request the upstream sent on a call's stream, answered by that call's agent: refused
   * when it came on no relaying call's stream (the standalone stream, a call already over) or
   * would show the agent the account's credential. The SDK checks the answer's shape.
   */
  private async relay(
    method: executor.ClientRequestMethod,
    params: Record<string, unknown>,
    requestId: string | number,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const marker = this.tap.takeCallOf(requestId);
    const call = marker === undefined ? undefined : this.relays.get(marker);
    if (!call) {
      metrics().toolCalls.clientRequest(method, 'no_call');
      throw new McpError(ErrorCode.InvalidRequest, `${method} is answered only during a tool call, on that call's own stream`);
    }
    if (++call.asked > MAX_CLIENT_REQUESTS_PER_CALL) {
      metrics().toolCalls.clientRequest(method, 'over_limit');
      throw new McpError(ErrorCode.InternalError, `${method} not relayed: at most ${MAX_CLIENT_REQUESTS_PER_CALL} requests to the agent per tool call`);
    }
    if (mayCarryCredential(JSON.stringify(params), this.secrets)) {
      metrics().toolCalls.clientRequest(method, 'withheld');
      throw new McpError(ErrorCode.InvalidParams, `${method} withheld: it carried the connection's credential`);
    }
    const answer = await call.relay(method, params, signal);
    // The agent's own code and message, as it sent them (an McpError would prefix the message).
    if ('refused' in answer) throw Object.assign(new Error(answer.refused.message), { code: answer.refused.code });
    return answer.result;
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
    request:
      | { method: 'tools/call'; params: { name: string; arguments: Record<string, unknown>; _meta?: Record<string, string> } }
      | { method: 'tools/list'; params: { cursor?: string } },
    schema: S,
    timeoutMs: number,
    cancel?: AbortSignal,
    onprogress?: (progress: Progress) => void,
  ): Promise<z.output<S>> {
    // One controller that our timer or the caller's signal aborts: aborting makes the SDK send
    // notifications/cancelled, so the upstream can stop too. (AbortSignal.timeout and
    // AbortSignal.any did the same with a composite signal's bookkeeping on every call, about
    // 1 % of the executor's CPU.)
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(new DOMException('The operation timed out.', 'TimeoutError')), timeoutMs);
    timer.unref();
    const onCancel = () => stop.abort(cancel?.reason);
    if (cancel?.aborted) onCancel();
    else cancel?.addEventListener('abort', onCancel, { once: true });
    try {
      // With `onprogress` the SDK sends a progressToken. Progress never extends the call
      // (resetTimeoutOnProgress stays off, and our own timer ignores it): the deadline is absolute.
      const options = { signal: stop.signal, timeout: timeoutMs + SDK_TIMER_SLACK_MS, ...(onprogress ? { onprogress } : {}) };
      return (await this.client.request(request, schema, options)) as z.output<S>;
    } catch (err) {
      if (cancel?.aborted) throw new StoppedError('cancelled');
      // Not the caller's signal, so our timer.
      if (stop.signal.aborted) throw new StoppedError('deadline');
      throw err;
    } finally {
      clearTimeout(timer);
      cancel?.removeEventListener('abort', onCancel);
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

/** Bound of a log message's logger name passed on (the bus contract allows 256 characters). */
const MAX_LOGGER = 200;
/** Log data nested deeper than this is not passed on. */
const MAX_LOG_DEPTH = 32;
const DROP = Symbol('drop');

/**
 * The upstream's log message as passed on, or undefined when it must be dropped: every
 * string of its data (keys too) cleaned of credentials as a progress message is, and the
 * whole dropped when a credential could still be in it (too short to redact, or found
 * again after cleaning). Data longer than MAX_LOG_DATA_BYTES serialized is cut, as text.
 */
export function logOf(params: Record<string, unknown>, secrets: readonly string[]): CallLog | undefined {
  const level = executor.LoggingLevel.safeParse(params['level']);
  if (!level.success || params['data'] === undefined) return undefined;
  let logger: string | undefined;
  if (typeof params['logger'] === 'string') {
    logger = sanitizeUpstreamText(params['logger'], secrets, MAX_LOGGER);
    if (logger === undefined) return undefined;
  }
  const cleaned = cleanJson(params['data'], secrets, 0);
  if (cleaned === DROP) return undefined;
  const serialized = JSON.stringify(cleaned);
  for (const secret of secrets) {
    if (serialized.includes(secret) || serialized.includes(JSON.stringify(secret).slice(1, -1))) return undefined;
  }
  const data = serialized.length <= executor.MAX_LOG_DATA_BYTES ? cleaned : cut(typeof cleaned === 'string' ? cleaned : serialized);
  return { level: level.data, ...(logger ? { logger } : {}), data };
}

function cleanJson(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (depth > MAX_LOG_DEPTH) return DROP;
  if (typeof value === 'string') return sanitizeUpstreamText(value, secrets, executor.MAX_LOG_DATA_BYTES) ?? DROP;
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      const clean = cleanJson(item, secrets, depth + 1);
      if (clean === DROP) return DROP;
      out.push(clean);
    }
    return out;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const cleanKey = sanitizeUpstreamText(key, secrets, MAX_LOGGER);
      const clean = cleanJson(item, secrets, depth + 1);
      if (cleanKey === undefined || clean === DROP) return DROP;
      out[cleanKey] = clean;
    }
    return out;
  }
  return DROP;
}

/** Text cut so that it serializes within the bound, marked as cut. */
function cut(text: string): string {
  let n = executor.MAX_LOG_DATA_BYTES;
  let out = `${text.slice(0, n)}…`;
  while (JSON.stringify(out).length > executor.MAX_LOG_DATA_BYTES + 2) {
    n = Math.floor(n * 0.8);
    out = `${text.slice(0, n)}…`;
  }
  return out;
}
