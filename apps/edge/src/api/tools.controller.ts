import { Controller, Get, Req } from '@nestjs/common';
import { api, policy, VmcpError, type ScopedTool } from '@vmcp/contracts';
import { findConnector } from '@vmcp/connectors';
import { Bus } from '@vmcp/messaging';
import type { Request } from 'express';
import { ApiPrincipalResolver } from '../auth/api-principal.js';
import { parseQuery } from '../http/body.js';

function toApiTool(t: ScopedTool) {
  const { inputSchema, outputSchema, annotations, description, title } = t.definition;
  return {
    name: t.name,
    connector: t.connector,
    connection_name: t.connection_name,
    ...(typeof title === 'string' ? { title } : {}),
    ...(description !== undefined ? { description } : {}),
    input_schema: inputSchema,
    ...(outputSchema ? { output_schema: outputSchema } : {}),
    ...(annotations ? { annotations } : {}),
  };
}

@Controller('api/v1')
export class ToolsController {
  constructor(
    private readonly auth: ApiPrincipalResolver,
    private readonly bus: Bus,
  ) {}

  /** The static catalog; the `mcp` connector's tools are discovered per connection instead. */
  @Get('tools')
  async catalog(@Req() req: Request) {
    await this.auth.tenant(req);
    const { connector } = parseQuery(api.ToolsQuery, req);
    if (connector && !findConnector(connector)) throw new VmcpError('NOT_FOUND', `connector "${connector}" not found`);
    return { tools: [] };
  }

  @Get('tools/scoped')
  async scoped(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    const { config_id, identifier } = parseQuery(api.ScopedToolsQuery, req);
    const { tools } = await this.bus.request(policy.scopedTools, { tenant_id, config_id, identifier });
    return { tools: tools.map(toApiTool) };
  }
}
