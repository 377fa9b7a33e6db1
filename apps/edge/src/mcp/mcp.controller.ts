import { All, Controller, Get, Inject, Param, Req, Res, type OnApplicationShutdown } from '@nestjs/common';
import {
  createMcpHandler,
  isInitializeRequest,
  isJsonContentType,
  isLegacyRequest,
  WebStandardStreamableHTTPServerTransport,
  type AuthInfo,
  type InitializeRequest,
  type McpHttpHandler,
} from '@modelcontextprotocol/server';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { ConfigId, isVmcpError, VmcpError, type executor, type SessionPrincipal } from '@vmcp/contracts';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import type { Request as ExpressRequest, Response as ExpressResponse } from 'express';
import { bearerOf } from '../auth/api-principal.js';
import { RevocationsService } from '../auth/revocations.service.js';
import { InvalidSessionToken, SessionTokensService } from '../auth/session-tokens.service.js';
import { InFlightCalls } from './in-flight-calls.service.js';
import { boundTo, keyOf, MAX_SESSION_RECORD_BYTES, McpSessionsService, type SessionRecord } from './mcp-sessions.service.js';
import { ListChangedStreams } from './list-changed-streams.service.js';
import { ListenSubscriptions } from './listen-subscriptions.service.js';
import { VirtualServerFactory, type SessionClientRequests, type SessionLogging } from './virtual-server.factory.js';
import { ClientRequests, relayedCapabilities } from './client-requests.service.js';
import { plainCallAnswer, plainToolsCall, type PlainToolsCall } from './plain-call.js';
import { isModernVersion, isObject, jsonRpcError, type RpcId } from './json-rpc.js';
import { ToolCallService } from './tool-call.service.js';
import { abortOnClose, sendWebResponse, toWebRequest } from './web-bridge.js';

/**
 * The virtual MCP server: Streamable HTTP at {mcp_server_url}, one per config, for both
 * protocol revisions on the same URL. Every request carries the session token and is
 * verified; then
 * - 2026-07-28 requests (a `_meta` envelope) go to the SDK's per-request entry
 *   (`createMcpHandler`): discover, header checks, version errors, cache hints;
 * - 2025-era requests (no envelope) are served per request too, with their session kept
 *   in NATS KV (McpSessionsService), so any edge replica serves any session.
 * Each request gets a fresh SDK server for its principal (VirtualServerFactory), except
 * the plainest 2025-era tools/call, which the edge answers itself (PlainToolsCall).
 */
@Controller()
export class McpController implements OnApplicationShutdown {
  private readonly modern: McpHttpHandler;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly tokens: SessionTokensService,
    private readonly revocations: RevocationsService,
    private readonly sessions: McpSessionsService,
    private readonly servers: VirtualServerFactory,
    private readonly streams: ListChangedStreams,
    private readonly listen: ListenSubscriptions,
    private readonly inFlight: InFlightCalls,
    private readonly clientRequests: ClientRequests,
    private readonly calls: ToolCallService,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {
    this.modern = createMcpHandler(({ authInfo }) => this.servers.create(principalOf(authInfo), { listChanged: true, logging: 'request' }), {
      // 2025-era traffic never reaches this handler: it is routed to the session leg below.
      legacy: 'reject',
      // subscriptions/listen streams hear their own tenant's change marks (ListenSubscriptions
      // caps them per tenant; this is the replica's overall bound).
      bus: this.listen,
      maxSubscriptions: 20_000,
      onerror: (err) => this.logger.debug({ err: err.message.slice(0, 300) }, 'MCP request refused'),
    });
  }

  private resourceMetadataUrl(configId: string): string {
    return `${this.config.publicUrl}/.well-known/oauth-protected-resource/mcp/${configId}`;
  }

  /** RFC 9728 protected-resource metadata, for clients that discover how to authenticate. */
  @Get('.well-known/oauth-protected-resource/mcp/:configId')
  metadata(@Param('configId') configId: string, @Res() res: ExpressResponse): void {
    if (!ConfigId.safeParse(configId).success) {
      res.status(404).json({ error: { code: 'NOT_FOUND', message: 'no such MCP server' } });
      return;
    }
    res.json({
      resource: this.tokens.mcpServerUrl(configId),
      authorization_servers: [this.config.publicUrl],
      bearer_methods_supported: ['header'],
      resource_name: 'vmcp virtual MCP server',
    });
  }

  @All('mcp/:configId')
  async handle(@Param('configId') configId: string, @Req() req: ExpressRequest, @Res() res: ExpressResponse): Promise<void> {
    if (!ConfigId.safeParse(configId).success || this.revocations.isConfigDeleted(configId)) {
      res.status(404).json(jsonRpcError(-32600, 'no such MCP server'));
      return;
    }
    // Every request, whatever the revision or session: a revoked token stops a session at once.
    const principal = await this.authenticate(configId, req, res);
    if (!principal) return;
    if (req.method === 'POST' && !isJsonContentType(req.headers['content-type'] ?? null)) {
      res.status(415).json(jsonRpcError(-32000, 'Unsupported Media Type: Content-Type must be application/json'));
      return;
    }
    const body: unknown = req.body;
    try {
      const sessionId = req.headers['mcp-session-id'];
      // Before the first wait: a client gone during a session lookup still cancels what follows.
      const closed = abortOnClose(res);
      if (req.method === 'POST' && typeof sessionId === 'string') {
        const plain = plainToolsCall(body, (name) => headerOf(req, name));
        if (plain && (await this.servePlainCall(plain, sessionId, principal, closed, req, res))) return;
      }
      if (req.method === 'GET' && typeof sessionId === 'string' && !isModernVersion(headerOf(req, 'mcp-protocol-version'))) {
        await this.openStream(sessionId, principal, req, res);
        return;
      }
      // A subscriptions/listen stream can be ended by vmcp too (revoked token, shutdown).
      const stop = req.method === 'POST' && isListenRequest(body) ? new AbortController() : undefined;
      if (stop && !this.listen.hasRoom(principal.tenant_id)) {
        res.status(200).json(jsonRpcError(-32603, 'Subscription limit reached', idOf(body)));
        return;
      }
      const web = toWebRequest(req, stop ? AbortSignal.any([closed, stop.signal]) : closed);
      await sendWebResponse(res, await this.route(web, body, principal, stop));
    } catch (err) {
      if (res.headersSent) return;
      if (isVmcpError(err) && err.code === 'UNAVAILABLE') {
        // The session store (NATS) cannot be reached: nothing was done, the client may retry.
        res.status(503).set('Retry-After', '1').json(jsonRpcError(-32603, err.message, idOf(body), { code: err.code }));
        return;
      }
      this.logger.error({ err: (err as Error).message.slice(0, 300) }, 'MCP request failed');
      res.status(500).json(jsonRpcError(-32603, 'Internal error', idOf(body)));
    }
  }

  private async route(web: Request, body: unknown, principal: SessionPrincipal, stop?: AbortController): Promise<Response> {
    switch (web.method) {
      case 'POST': {
        // The SDK's own classification: a `_meta` envelope claim makes a request 2026-07-28.
        if (await isLegacyRequest(web, body)) return this.serveLegacy(web, body, principal);
        const serve = () => this.modern.fetch(web, { parsedBody: body, authInfo: authInfoOf(principal) });
        return stop ? this.listen.serve(principal, stop, serve) : serve();
      }
      case 'DELETE': {
        const sessionId = web.headers.get('mcp-session-id');
        if (sessionId !== null && !isModernVersion(web.headers.get('mcp-protocol-version'))) return this.endSession(sessionId, principal);
        // A 2026-07-28 client has no session to end: the SDK answers 405.
        return this.modern.fetch(web, { authInfo: authInfoOf(principal) });
      }
      case 'GET':
        // A 2025-era session's stream is opened in handle(); a 2026-07-28 client (or a GET
        // without a session) has none: the SDK answers 405.
        return this.modern.fetch(web, { authInfo: authInfoOf(principal) });
      default:
        return Response.json(jsonRpcError(-32000, 'Method not allowed.'), { status: 405, headers: { Allow: 'POST' } });
    }
  }

  /**
   * A plain 2025-era tools/call (PlainToolsCall), answered in JSON without an SDK server:
   * false when the session's calls stream (a log level, an agent that can be asked
   * something), and the SDK serves it.
   */
  private async servePlainCall(
    call: PlainToolsCall,
    sessionId: string,
    principal: SessionPrincipal,
    closed: AbortSignal,
    req: ExpressRequest,
    res: ExpressResponse,
  ): Promise<boolean> {
    const session = await this.liveSession(sessionId, principal, headerOf(req, 'mcp-protocol-version'), call.id);
    if (session instanceof Response) {
      await sendWebResponse(res, session);
      return true;
    }
    if (session.log_level !== undefined || relayedCapabilities(session.client_capabilities)) return false;
    // As on the SDK's path: a notifications/cancelled on any replica, or the client going away, cancels it.
    const tracked = this.inFlight.track(keyOf(sessionId), call.id, closed);
    let answer: ReturnType<typeof plainCallAnswer>;
    try {
      const { result } = await this.calls.call({
        principal,
        toolName: call.name,
        arguments: call.arguments,
        source: 'mcp',
        signal: tracked.signal,
      });
      answer = plainCallAnswer(call.id, { result });
    } catch (err) {
      if (!isVmcpError(err)) this.logger.error({ err: (err as Error).message.slice(0, 300) }, 'tools/call failed');
      answer = plainCallAnswer(call.id, { error: err });
    } finally {
      tracked.done();
    }
    // Node's setHeader, not Express's set (which adds a charset): the header the SDK's answer has.
    res.status(200).setHeader('content-type', 'application/json');
    res.end(JSON.stringify(answer));
    return true;
  }

  /**
   * The session a 2025-era request names, when it is live, this user's, and the request
   * speaks its negotiated version; otherwise the answer to send.
   */
  private async liveSession(sessionId: string, principal: SessionPrincipal, version: string | null, id: RpcId | null): Promise<SessionRecord | Response> {
    const session = await this.sessions.get(sessionId);
    // Another user's session answers exactly like an unknown one: its existence is not revealed.
    if (!session || !boundTo(session, principal)) return sessionNotFound(id);
    if (version !== null && version !== session.protocol_version) {
      return Response.json(jsonRpcError(-32000, 'Bad Request: MCP-Protocol-Version is not the version this session negotiated', id), { status: 400 });
    }
    return session;
  }

  /** A 2025-era request: `initialize` opens a session; everything else needs a live one of this user's. */
  private async serveLegacy(web: Request, body: unknown, principal: SessionPrincipal): Promise<Response> {
    if (isInitializeRequest(body)) return this.initialize(web, body, principal);
    const sessionId = web.headers.get('mcp-session-id');
    if (sessionId === null) return Response.json(jsonRpcError(-32000, 'Bad Request: Mcp-Session-Id header is required', idOf(body)), { status: 400 });
    const session = await this.liveSession(sessionId, principal, web.headers.get('mcp-protocol-version'), idOf(body));
    if (session instanceof Response) return session;
    const sessionKey = keyOf(sessionId);
    // The agent's answers to what vmcp asked it during a call: to the replica that asked.
    try {
      if (await this.clientRequests.deliver(sessionKey, body)) return new Response(null, { status: 202 });
    } catch (err) {
      if (isVmcpError(err) && err.code === 'PAYLOAD_TOO_LARGE') return Response.json(jsonRpcError(-32600, err.message, null, { code: err.code }), { status: 413 });
      throw err;
    }
    // A cancellation may be for a call another replica holds: every replica hears it.
    for (const requestId of cancelledRequestIds(body)) this.inFlight.cancel(sessionKey, requestId);
    const logging: SessionLogging = {
      level: session.log_level,
      setLevel: async (level) => {
        // Ended (or expired) since it was read above.
        if (!(await this.sessions.setLogLevel(sessionId, level))) throw new VmcpError('NOT_FOUND', 'Session not found');
      },
    };
    const relayed = relayedCapabilities(session.client_capabilities);
    return this.serveOnce(web, body, principal, logging, sessionKey, relayed);
  }

  private async initialize(web: Request, body: InitializeRequest, principal: SessionPrincipal): Promise<Response> {
    const { capabilities, clientInfo } = body.params;
    if (JSON.stringify(capabilities).length + JSON.stringify(clientInfo).length > MAX_SESSION_RECORD_BYTES) {
      return Response.json(jsonRpcError(-32602, 'initialize: capabilities and clientInfo are too large', idOf(body)), { status: 400 });
    }
    // The session has no log level yet: it is offered logging (logging/setLevel) for later.
    const response = await this.serveOnce(web, body, principal, { level: undefined });
    const text = await response.text();
    const negotiated = negotiatedVersionOf(text);
    // A refused initialize opens nothing.
    if (response.status !== 200 || negotiated === undefined) return new Response(text, response);
    const sessionId = await this.sessions.create({
      tenant_id: principal.tenant_id,
      config_id: principal.config_id,
      identifier: principal.identifier,
      token_id: principal.token_id ?? null,
      protocol_version: negotiated,
      client_capabilities: capabilities,
      client_info: clientInfo,
      created_at: new Date().toISOString(),
    });
    const headers = new Headers(response.headers);
    headers.set('mcp-session-id', sessionId);
    return new Response(text, { status: 200, headers });
  }

  /**
   * One 2025-era exchange on a fresh server and a stateless transport: the transport holds
   * no session (we checked it above), so the server answers as on an initialized session.
   * The client's capabilities stay in the session record and are not seeded into the
   * server: the only requests it sends the client are an upstream's sampling and
   * elicitation during a call (ClientRequests), and only those the session declared.
   */
  private async serveOnce(
    web: Request,
    body: unknown,
    principal: SessionPrincipal,
    logging: SessionLogging,
    sessionKey?: string,
    relayed?: executor.RelayedCapabilities,
  ): Promise<Response> {
    const clientRequests: SessionClientRequests | undefined =
      sessionKey !== undefined && relayed
        ? { key: sessionKey, capabilities: relayed, send: (request, relatedRequestId): Promise<void> => transport.send(request, { relatedRequestId }) }
        : undefined;
    const server = this.servers.create(principal, {
      listChanged: true,
      logging,
      ...(sessionKey !== undefined ? { sessionKey } : {}),
      ...(clientRequests ? { clientRequests } : {}),
    });
    // JSON answers, except for a call that asked for progress, one of a session that set a
    // log level, or one whose agent may be asked something (sampling, elicitation): its
    // notifications and requests need an SSE stream (the transport chooses before the call runs).
    const stream = wantsProgress(body) || ((logging.level !== undefined || clientRequests !== undefined) && hasToolsCall(body));
    // Made after the server, before it handles anything (the send above runs only then).
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: !stream });
    await server.connect(transport);
    const close = () => {
      void transport.close().catch(() => undefined);
      void server.close().catch(() => undefined);
    };
    let response: Response;
    try {
      response = await transport.handleRequest(web, { parsedBody: body });
    } catch (err) {
      close();
      throw err;
    }
    // A JSON answer is complete now; a stream is complete when the transport ends it (after
    // the result) or the client goes away.
    if (!response.body || !response.headers.get('content-type')?.startsWith('text/event-stream')) {
      close();
      return response;
    }
    return new Response(onStreamEnd(response.body, close), response);
  }

  /**
   * A 2025-era session's standalone SSE stream: the server's only unprompted message is
   * `notifications/tools/list_changed` (ListChangedStreams), so the client lists again.
   */
  private async openStream(sessionId: string, principal: SessionPrincipal, req: ExpressRequest, res: ExpressResponse): Promise<void> {
    if (!(headerOf(req, 'accept') ?? '').includes('text/event-stream')) {
      res.status(406).json(jsonRpcError(-32000, 'Not Acceptable: Client must accept text/event-stream'));
      return;
    }
    const session = await this.sessions.get(sessionId);
    if (!session || !boundTo(session, principal)) {
      res.status(404).json(jsonRpcError(-32001, 'Session not found'));
      return;
    }
    this.streams.open(res, principal, sessionId);
  }

  private async endSession(sessionId: string, principal: SessionPrincipal): Promise<Response> {
    const session = await this.sessions.get(sessionId);
    if (!session || !boundTo(session, principal)) return sessionNotFound(null);
    await this.sessions.delete(sessionId);
    return new Response(null, { status: 200 });
  }

  private async authenticate(configId: string, req: ExpressRequest, res: ExpressResponse): Promise<SessionPrincipal | undefined> {
    const challenge = (error?: string) => {
      const parts = ['Bearer realm="vmcp"', `resource_metadata="${this.resourceMetadataUrl(configId)}"`];
      if (error) parts.push('error="invalid_token"', `error_description="${error}"`);
      res.status(401).set('WWW-Authenticate', parts.join(', ')).json(jsonRpcError(-32001, error ?? 'missing bearer token'));
      return undefined;
    };
    const token = bearerOf(req);
    if (!token) return challenge();
    try {
      return await this.tokens.verify(token, configId);
    } catch (err) {
      if (err instanceof InvalidSessionToken) return challenge(err.description);
      const message = isVmcpError(err) ? err.message : 'cannot verify the token now';
      res.status(503).set('Retry-After', '1').json(jsonRpcError(-32603, message, null, { code: isVmcpError(err) ? err.code : 'UNAVAILABLE' }));
      return undefined;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.modern.close();
  }
}

/** The verified principal rides to the server factory in the SDK's pass-through auth info (never the token itself). */
function authInfoOf(principal: SessionPrincipal): AuthInfo {
  return { token: principal.token_id ?? '', clientId: principal.identifier, scopes: [], extra: { principal } };
}

function principalOf(authInfo: AuthInfo | undefined): SessionPrincipal {
  const principal = authInfo?.extra?.['principal'] as SessionPrincipal | undefined;
  // Fail closed: the controller authenticates before anything reaches the handler.
  if (!principal) throw new Error('MCP request without a verified principal');
  return principal;
}

function negotiatedVersionOf(text: string): string | undefined {
  try {
    const version = (JSON.parse(text) as { result?: { protocolVersion?: unknown } }).result?.protocolVersion;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

/** The request's id when the body is one JSON-RPC request, for error answers. */
function idOf(body: unknown): RpcId | null {
  if (!isObject(body)) return null;
  const { id } = body;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

/** The messages of a body (one, or a batch from a 2025-03-26 client). */
function messagesOf(body: unknown): unknown[] {
  return Array.isArray(body) ? body : [body];
}

/** Whether the body holds a tools/call with `_meta.progressToken`: its answer must be a stream. */
function wantsProgress(body: unknown): boolean {
  return messagesOf(body).some((m) => {
    if (!isObject(m) || m['method'] !== 'tools/call' || !isObject(m['params'])) return false;
    const meta = m['params']['_meta'];
    return isObject(meta) && meta['progressToken'] !== undefined;
  });
}

/** Whether the body holds a tools/call. */
function hasToolsCall(body: unknown): boolean {
  return messagesOf(body).some((m) => isObject(m) && m['method'] === 'tools/call');
}

/** A 2026-07-28 `subscriptions/listen` request (one message, never a batch). */
function isListenRequest(body: unknown): boolean {
  return isObject(body) && body['method'] === 'subscriptions/listen';
}

/** The request ids named by the body's `notifications/cancelled`. */
function cancelledRequestIds(body: unknown): unknown[] {
  return messagesOf(body)
    .filter((m): m is Record<string, unknown> => isObject(m) && m['method'] === 'notifications/cancelled' && m['id'] === undefined && isObject(m['params']))
    .map((m) => (m['params'] as Record<string, unknown>)['requestId']);
}

/** The same stream, calling `end` once when it is read to the end, fails, or is cancelled. */
function onStreamEnd(body: ReadableStream<Uint8Array>, end: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  const finish = () => {
    if (!ended) {
      ended = true;
      end();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          finish();
        } else controller.enqueue(value);
      } catch (err) {
        controller.error(err);
        finish();
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
}

/** Unknown, expired, ended or another user's: the client starts a new session (spec: 404). */
function sessionNotFound(id: RpcId | null): Response {
  return Response.json(jsonRpcError(-32001, 'Session not found', id), { status: 404 });
}

function headerOf(req: ExpressRequest, name: string): string | null {
  const value = req.headers[name];
  return typeof value === 'string' ? value : null;
}
