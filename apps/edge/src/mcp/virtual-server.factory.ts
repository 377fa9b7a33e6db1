import { Inject, Injectable } from '@nestjs/common';
import { LOG_LEVEL_META_KEY, Server, type CallToolResult, type RequestId, type ServerNotification, type Tool } from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { executor, isVmcpError, type SessionPrincipal } from '@vmcp/contracts';
import { VMCP_LOGGER } from '@vmcp/runtime';
import { VMCP_VERSION, type Logger } from '@vmcp/telemetry';
import { z } from 'zod';
import { mcpErrorOf, toMcpError } from './mcp-errors.js';
import { ScopedToolsService } from './scoped-tools.service.js';
import { ToolCallService } from './tool-call.service.js';
import { InFlightCalls } from './in-flight-calls.service.js';
import { ClientRequests, type AgentMessage } from './client-requests.service.js';
import { callStream } from './call-stream.js';
import { logRelay } from './log-relay.js';
import { progressRelay } from './progress-relay.js';
import { InvalidCursor, pageOf } from './tools-page.js';

/** A 2025-era session's logging: the level its `logging/setLevel` stored, and how to store another. */
export interface SessionLogging {
  /** Undefined: the session set none, and its calls get no log messages. */
  readonly level: executor.LoggingLevel | undefined;
  /** Stores a new level for the session, for every replica. Absent on `initialize` (no session yet). */
  readonly setLevel?: (level: executor.LoggingLevel) => Promise<void>;
}

/** A 2025-era session whose agent can be asked things during a call (sampling, elicitation). */
export interface SessionClientRequests {
  /** The session's key (as in the sessions bucket): only this session's answers are taken. */
  readonly key: string;
  /** What the agent declared it can answer. */
  readonly capabilities: executor.RelayedCapabilities;
  /** Sends a message to the agent on the stream of the request `relatedRequestId` (the call's). */
  readonly send: (message: AgentMessage, relatedRequestId: RequestId) => Promise<void>;
}

/** `logging/setLevel` params as they come; the level is checked by the handler (-32602). */
const SET_LEVEL_PARAMS = z.looseObject({ level: z.unknown() });

/** One validator for every per-request server: building an Ajv instance per request costs milliseconds. */
const SHARED_SCHEMA_VALIDATOR = new AjvJsonSchemaValidator();

/**
 * The virtual MCP server of one config for one user, built per request: the same
 * tools/list and tools/call for both protocol revisions (SDK v2's low-level Server, which
 * the 2026-07-28 entry and the 2025-era transport both serve). Nothing in it outlives the
 * request; the principal comes from the verified token, never from the body.
 */
@Injectable()
export class VirtualServerFactory {
  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly scopedTools: ScopedToolsService,
    private readonly calls: ToolCallService,
    private readonly inFlight: InFlightCalls,
    private readonly clientRequests: ClientRequests,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * `sessionKey`: the 2025-era session the request belongs to, so a cancellation from any replica finds its calls.
   * `listChanged`: the client can be told notifications/tools/list_changed (a 2025-era
   * session on its GET stream, a 2026-07-28 client on a subscriptions/listen stream);
   * otherwise the capability is not advertised.
   * `logging`: offers the capability, and says where a call's log level comes from:
   * 'request' for a 2026-07-28 request (its own `_meta`), or a 2025-era session's level
   * (SessionLogging, set by `logging/setLevel`). Absent: not offered, no log messages.
   * `clientRequests`: the upstream's sampling and elicitation requests during a call are put
   * to this 2025-era session's agent (absent: the upstream is not offered them).
   */
  create(
    principal: SessionPrincipal,
    options: { sessionKey?: string; listChanged?: boolean; logging?: 'request' | SessionLogging; clientRequests?: SessionClientRequests } = {},
  ): Server {
    const relay = options.clientRequests;
    const listChanged = options.listChanged === true;
    const logging = options.logging;
    const server = new Server(
      { name: 'vmcp', version: VMCP_VERSION },
      {
        capabilities: { tools: { listChanged }, ...(logging !== undefined ? { logging: {} } : {}) },
        jsonSchemaValidator: SHARED_SCHEMA_VALIDATOR,
        // 2026-07-28 only (2025-era results carry no cache fields). Lists are per user:
        // never shared between principals.
        cacheHints: { 'tools/list': { ttlMs: this.config.mcp.toolsListTtlMs, cacheScope: 'private' } },
      },
    );
    if (logging !== undefined && logging !== 'request') {
      // Replaces the SDK's own handler, which keeps the level in this per-request server only.
      // The level is checked here, not by the SDK's wire schema (that refusal is -32603).
      const { setLevel } = logging;
      server.setRequestHandler('logging/setLevel', { params: SET_LEVEL_PARAMS }, async (params) => {
        const level = executor.LoggingLevel.safeParse(params.level);
        if (!level.success) throw toMcpError('INVALID_ARGUMENT', 'logging/setLevel: level must be one of ' + executor.LoggingLevel.options.join(', '));
        if (!setLevel) throw toMcpError('INVALID_ARGUMENT', 'logging/setLevel needs a session');
        try {
          await setLevel(level.data);
        } catch (err) {
          if (!isVmcpError(err)) this.logger.error({ err: (err as Error).message.slice(0, 300) }, 'logging/setLevel failed');
          throw mcpErrorOf(err);
        }
        return {};
      });
    }
    server.setRequestHandler('tools/list', async (request, ctx) => {
      try {
        const { tools, complete } = await this.scopedTools.list(principal);
        const page = pageOf(tools, request.params?.cursor, this.config.mcp.toolsPageSize);
        return {
          tools: page.tools.map((t) => ({ ...t.definition, name: t.name }) as Tool),
          ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}),
          // A list missing a connection whose discovery just failed: a 2026-07-28 client is
          // told not to keep it (the handler's own ttlMs wins over the server's cache hint).
          ...(!complete && ctx.mcpReq.envelope !== undefined ? { ttlMs: 0 } : {}),
        };
      } catch (err) {
        if (err instanceof InvalidCursor) throw toMcpError('INVALID_ARGUMENT', err.message);
        if (!isVmcpError(err)) this.logger.error({ err: (err as Error).message.slice(0, 300) }, 'tools/list failed');
        throw mcpErrorOf(err);
      }
    });
    server.setRequestHandler('tools/call', async (request, ctx) => {
      // Cancelled by the SDK (the 2026-07-28 exchange closed), by the client going away, or
      // (2025-era sessions) by a notifications/cancelled that reached any replica.
      const tracked = options.sessionKey !== undefined ? this.inFlight.track(options.sessionKey, ctx.mcpReq.id) : undefined;
      const signals = [ctx.mcpReq.signal, ctx.http?.req?.signal, tracked?.signal].filter((s): s is AbortSignal => s !== undefined);
      // Progress and log messages share the call's stream, in the order they came.
      const stream = callStream((n) => ctx.mcpReq.notify(n as ServerNotification));
      const progress = progressRelay(ctx.mcpReq._meta?.progressToken, stream.send);
      // A 2026-07-28 request's own `_meta`, or the level a 2025-era session set, asks for log
      // messages (neither: none at all).
      const level = logging === 'request' ? envelopeOf(ctx.mcpReq.envelope)?.[LOG_LEVEL_META_KEY] : logging?.level;
      const logs = logRelay(level, stream.send);
      // The upstream session declared only what the agent declared and the config allows: its SDK refuses the rest before it gets here.
      const ask =
        relay &&
        ((method: executor.ClientRequestMethod, params: Record<string, unknown>, signal: AbortSignal) =>
          this.clientRequests.ask(relay.key, (message) => relay.send(message, ctx.mcpReq.id), method, params, signal));
      try {
        const { result } = await this.calls.call({
          principal,
          toolName: request.params.name,
          arguments: request.params.arguments ?? {},
          source: 'mcp',
          signal: AbortSignal.any(signals),
          ...(progress ? { onProgress: progress.relay } : {}),
          ...(logs ? { logs: { minLevel: logs.minLevel, onLog: logs.relay } } : {}),
          ...(relay && ask ? { clientRequests: { capabilities: relay.capabilities, ask } } : {}),
        });
        // Every progress notification and log message goes out before the result.
        await stream.sent();
        return result as CallToolResult;
      } catch (err) {
        // The SDK would send an unexpected error's own message to the agent.
        if (!isVmcpError(err)) this.logger.error({ err: (err as Error).message.slice(0, 300) }, 'tools/call failed');
        throw mcpErrorOf(err);
      } finally {
        tracked?.done();
      }
    });
    return server;
  }
}

/** The SDK's envelope type is an empty object in its published declarations; its keys are read as unknown. */
function envelopeOf(envelope: object | undefined): Record<string, unknown> | undefined {
  return envelope as Record<string, unknown> | undefined;
}
