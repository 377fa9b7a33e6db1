import { Controller, Get, Req } from '@nestjs/common';
import { api, policy, VmcpError, type ScopedTool, type ToolDefinition } from '@vmcp/contracts';
import { CONNECTORS, findConnector, type ConnectorInfo } from '@vmcp/connectors';
import { Bus } from '@vmcp/messaging';
import type { Request } from 'express';
import { ApiPrincipalResolver } from '../auth/api-principal.js';
import { parseQuery } from '../http/body.js';

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
}
