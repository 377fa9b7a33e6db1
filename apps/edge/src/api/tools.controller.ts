import { Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { api, policy, VmcpError, type CallToolResult, type ScopedTool, type ToolDefinition } from '@vmcp/contracts';
import { CONNECTORS, findConnector, type ConnectorInfo } from '@vmcp/connectors';
import { Bus } from '@vmcp/messaging';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { ApiPrincipalResolver } from '../auth/api-principal.js';
import { parseBody, parseQuery } from '../http/body.js';
import { ToolCallService } from '../mcp/tool-call.service.js';
import { abortOnClose } from '../mcp/web-bridge.js';

function toApiTool(t: ScopedTool) {
  return { ...catalogTool(t.connector, t.definition, t.name), connection_name: t.connection_name };
}

/** A tool definition as the API shows it (snake_case schemas), under the name given. */
function catalogTool(connector: string, definition: ToolDefinition, name = definition.name) {
  const { inputSchema, outputSchema, annotations, description, title } = definition;
  return {
    name,
    connector,
    ...(typeof title === 'string' ? { title } : {}),
    ...(description !== undefined ? { description } : {}),
    input_schema: inputSchema,
    ...(outputSchema ? { output_schema: outputSchema } : {}),
    ...(annotations ? { annotations } : {}),
  };
}

/** The static tool definitions of these connectors, for the API. */
export function catalogTools(infos: readonly ConnectorInfo[]) {
  return infos.flatMap((info) => (info.tools ?? []).map((t) => catalogTool(info.id, t)));
}

@Controller('api/v1')
export class ToolsController {
  constructor(
    private readonly auth: ApiPrincipalResolver,
    private readonly bus: Bus,
    private readonly calls: ToolCallService,
  ) {}

  /** The static catalog; the `mcp` connector's tools are discovered per connection instead. */
  @Get('tools')
  async catalog(@Req() req: Request) {
    await this.auth.tenant(req);
    const { connector } = parseQuery(api.ToolsQuery, req);
    let infos: readonly ConnectorInfo[] = CONNECTORS;
    if (connector) {
      const info = findConnector(connector);
      if (!info) throw new VmcpError('NOT_FOUND', `connector "${connector}" not found`);
      infos = [info];
    }
    return { tools: catalogTools(infos) };
  }

  @Get('tools/scoped')
  async scoped(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    const { config_id, identifier } = parseQuery(api.ScopedToolsQuery, req);
    const { tools } = await this.bus.request(policy.scopedTools, { tenant_id, config_id, identifier });
    return { tools: tools.map(toApiTool) };
  }

  /** The same call as an MCP tools/call (policy, vault, audit), answered as plain JSON. */
  @Post('execute_tool')
  @HttpCode(200)
  async execute(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<z.output<typeof api.ExecuteToolReply>> {
    const tenant_id = await this.auth.tenant(req);
    const body = parseBody(api.ExecuteToolBody, req);
    const { identifier, config_id, connection_name = '' } = body;
    const { executionId, result } = await this.calls.call({
      // The body schema lets exactly one of config_id and connection_name through.
      principal: config_id ? { tenant_id, config_id, identifier } : { tenant_id, connection_name, identifier },
      toolName: body.tool_name,
      arguments: body.params,
      source: 'api',
      agentRunId: body.agent_run_id ?? null,
      // A backend that gives up on the request stops the call, upstream included (audited CANCELLED).
      signal: abortOnClose(res),
    });
    return executeReply(executionId, result);
  }
}

/**
 * `data` is what a function-calling framework wants back: the structured content, else
 * the text as JSON when it is JSON, else the text. An error result keeps its text in
 * `error`, as the agent would have read it over MCP.
 */
export function executeReply(executionId: string, result: CallToolResult): z.output<typeof api.ExecuteToolReply> {
  const text = result.content
    .flatMap((block) => (block.type === 'text' && typeof block.text === 'string' ? [block.text] : []))
    .join('\n');
  if (result.isError) {
    return { execution_id: executionId, successful: false, data: null, error: text || 'the tool reported an error', content: result.content };
  }
  return { execution_id: executionId, successful: true, data: result.structuredContent ?? jsonOrText(text), error: null, content: result.content };
}

function jsonOrText(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
