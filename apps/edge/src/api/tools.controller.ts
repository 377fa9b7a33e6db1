import { Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { api, VmcpError } from '@vmcp/contracts';
import { CONNECTORS, findConnector, type ConnectorInfo } from '@vmcp/connectors';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { ApiPrincipalResolver } from '../auth/api-principal.js';
import { parseBody, parseQuery } from '../http/body.js';
import { abortOnClose } from '../mcp/web-bridge.js';
import { TenantApiService } from './tenant-api.service.js';
import { catalogTools } from './tool-views.js';

@Controller('api/v1')
export class ToolsController {
  constructor(
    private readonly auth: ApiPrincipalResolver,
    private readonly ops: TenantApiService,
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
    return this.ops.scopedTools(tenant_id, parseQuery(api.ScopedToolsQuery, req));
  }

  /** The same call as an MCP tools/call (policy, vault, audit), answered as plain JSON. */
  @Post('execute_tool')
  @HttpCode(200)
  async execute(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<z.output<typeof api.ExecuteToolReply>> {
    const tenant_id = await this.auth.tenant(req);
    // A backend that gives up on the request stops the call, upstream included (audited CANCELLED).
    return this.ops.executeTool(tenant_id, parseBody(api.ExecuteToolBody, req), abortOnClose(res));
  }
}
