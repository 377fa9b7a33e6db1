import { All, Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { CallToolRequestSchema, ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { ConfigId, isVmcpError, policy, type SessionPrincipal } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import { VMCP_LOGGER } from '@vmcp/runtime';
import { VMCP_VERSION, type Logger } from '@vmcp/telemetry';
import type { Request, Response } from 'express';
import { bearerOf } from '../auth/api-principal.js';
import { RevocationsService } from '../auth/revocations.service.js';
import { InvalidSessionToken, SessionTokensService } from '../auth/session-tokens.service.js';
import { toMcpError } from './mcp-errors.js';
import { ToolCallService } from './tool-call.service.js';

/**
 * The virtual MCP server: Streamable HTTP at {mcp_server_url}, one per config. Each
 * request carries the session token; the server is stateless (no in-process session),
 * so any edge replica can serve any request.
 */
/** One validator for every per-request server: building an Ajv instance per request costs milliseconds. */
const SHARED_SCHEMA_VALIDATOR = new AjvJsonSchemaValidator();

@Controller()
export class McpController {
  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly bus: Bus,
    private readonly tokens: SessionTokensService,
    private readonly revocations: RevocationsService,
    private readonly calls: ToolCallService,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  private resourceMetadataUrl(configId: string): string {
    return `${this.config.publicUrl}/.well-known/oauth-protected-resource/mcp/${configId}`;
  }

  /** RFC 9728 protected-resource metadata, for clients that discover how to authenticate. */
  @Get('.well-known/oauth-protected-resource/mcp/:configId')
  metadata(@Param('configId') configId: string, @Res() res: Response): void {
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
  async handle(@Param('configId') configId: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    if (!ConfigId.safeParse(configId).success || this.revocations.isConfigDeleted(configId)) {
      res.status(404).json(jsonRpcError(-32600, 'no such MCP server'));
      return;
    }
    const principal = await this.authenticate(configId, req, res);
    if (!principal) return;
    if (req.method !== 'POST') {
      // Stateless server: no standalone SSE stream to GET and no session to DELETE.
      res.status(405).set('Allow', 'POST').json(jsonRpcError(-32000, 'Method not allowed'));
      return;
    }

    const server = this.serverFor(principal);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  }

  private async authenticate(configId: string, req: Request, res: Response): Promise<SessionPrincipal | undefined> {
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
      res.status(503).set('Retry-After', '1').json(jsonRpcError(-32603, message));
      return undefined;
    }
  }

  private serverFor(principal: SessionPrincipal): Server {
    const server = new Server(
      { name: 'vmcp', version: VMCP_VERSION },
      { capabilities: { tools: { listChanged: false } }, jsonSchemaValidator: SHARED_SCHEMA_VALIDATOR },
    );
    server.setRequestHandler(ListToolsRequestSchema, async () => {
      try {
        const { tools } = await this.bus.request(policy.scopedTools, principal);
        return { tools: tools.map((t) => ({ ...t.definition, name: t.name }) as Tool) };
      } catch (err) {
        throw isVmcpError(err) ? toMcpError(err.code, err.message) : err;
      }
    });
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      try {
        const { result } = await this.calls.call({
          principal,
          toolName: request.params.name,
          arguments: request.params.arguments ?? {},
          source: 'mcp',
        });
        return result;
      } catch (err) {
        if (isVmcpError(err)) throw toMcpError(err.code, err.message);
        this.logger.error({ err: (err as Error).message }, 'tools/call failed');
        throw err;
      }
    });
    return server;
  }
}

function jsonRpcError(code: number, message: string) {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}
