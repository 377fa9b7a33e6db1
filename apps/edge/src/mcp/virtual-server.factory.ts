import { Inject, Injectable } from '@nestjs/common';
import { LOG_LEVEL_META_KEY, Server, type CallToolResult, type ServerNotification, type Tool } from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { isVmcpError, type SessionPrincipal } from '@vmcp/contracts';
import { VMCP_LOGGER } from '@vmcp/runtime';
import { VMCP_VERSION, type Logger } from '@vmcp/telemetry';
import { toMcpError } from './mcp-errors.js';
import { ScopedToolsService } from './scoped-tools.service.js';
import { ToolCallService } from './tool-call.service.js';
import { InFlightCalls } from './in-flight-calls.service.js';
import { callStream } from './call-stream.js';
import { logRelay } from './log-relay.js';
import { progressRelay } from './progress-relay.js';
import { InvalidCursor, pageOf } from './tools-page.js';

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
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  /** `sessionKey`: the 2025-era session the request belongs to, so a cancellation from any replica finds its calls. */
  /**
   * `listChanged`: the client can be told notifications/tools/list_changed (a 2025-era
   * session on its GET stream, a 2026-07-28 client on a subscriptions/listen stream);
   * otherwise the capability is not advertised.
   * `logging`: a 2026-07-28 request, which asks for the upstream's log messages of a call by
   * its `_meta` log level. 2025-era sessions get none (logging/setLevel is not implemented),
   * so they are not offered the capability.
   */
  create(principal: SessionPrincipal, options: { sessionKey?: string; listChanged?: boolean; logging?: boolean } = {}): Server {
    const listChanged = options.listChanged === true;
    const logging = options.logging === true;
    const server = new Server(
      { name: 'vmcp', version: VMCP_VERSION },
      {
        capabilities: { tools: { listChanged }, ...(logging ? { logging: {} } : {}) },
        jsonSchemaValidator: SHARED_SCHEMA_VALIDATOR,
        // 2026-07-28 only (2025-era results carry no cache fields). Lists are per user:
        // never shared between principals.
        cacheHints: { 'tools/list': { ttlMs: this.config.mcp.toolsListTtlMs, cacheScope: 'private' } },
      },
    );
    server.setRequestHandler('tools/list', async (request) => {
      try {
        const tools = await this.scopedTools.list(principal);
        const page = pageOf(tools, request.params?.cursor, this.config.mcp.toolsPageSize);
        return {
          tools: page.tools.map((t) => ({ ...t.definition, name: t.name }) as Tool),
          ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}),
        };
      } catch (err) {
        if (err instanceof InvalidCursor) throw toMcpError('INVALID_ARGUMENT', err.message);
        throw isVmcpError(err) ? toMcpError(err.code, err.message) : err;
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
      // Only a 2026-07-28 request's own `_meta` asks for log messages (absent: none at all).
      const logs = logging ? logRelay(envelopeOf(ctx.mcpReq.envelope)?.[LOG_LEVEL_META_KEY], stream.send) : undefined;
      try {
        const { result } = await this.calls.call({
          principal,
          toolName: request.params.name,
          arguments: request.params.arguments ?? {},
          source: 'mcp',
          signal: AbortSignal.any(signals),
          ...(progress ? { onProgress: progress.relay } : {}),
          ...(logs ? { logs: { minLevel: logs.minLevel, onLog: logs.relay } } : {}),
        });
        // Every progress notification and log message goes out before the result.
        await stream.sent();
        return result as CallToolResult;
      } catch (err) {
        if (isVmcpError(err)) throw toMcpError(err.code, err.message);
        this.logger.error({ err: (err as Error).message }, 'tools/call failed');
        throw err;
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
