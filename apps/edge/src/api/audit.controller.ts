import { Controller, Get, Param, Put, Req, Res } from '@nestjs/common';
import { api, audit, ExecutionId } from '@vmcp/contracts';
import { Bus, verifyAuditChain } from '@vmcp/messaging';
import type { Request, Response } from 'express';
import { ApiPrincipalResolver } from '../auth/api-principal.js';
import { parseBody, parseParam, parseQuery } from '../http/body.js';
import { toVmcpError } from '../http/http-errors.filter.js';
import { TenantApiService } from './tenant-api.service.js';

/** Resolves once the response can take more (or the client went away). */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** The tenant's audit trail: entries, their NDJSON export, chain verification, retention. */
@Controller('api/v1')
export class AuditController {
  constructor(
    private readonly auth: ApiPrincipalResolver,
    private readonly bus: Bus,
    private readonly ops: TenantApiService,
  ) {}

  @Get('tool_call_logs')
  async list(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    return this.ops.listLogs(tenant_id, parseQuery(api.ListLogsQuery, req));
  }

  /**
   * Every matching entry, one JSON object per line, newest first. Pages come from the audit
   * service one at a time and each is written as it arrives, waiting whenever the client
   * reads slower than we write: memory stays at one page whatever the range. A failure
   * after the first line ends the stream with a line `{"error": {code, message}}`.
   */
  @Get('tool_call_logs/export')
  async export(@Req() req: Request, @Res() res: Response): Promise<void> {
    const tenant_id = await this.auth.tenant(req);
    const { page_size, page_token, ...filter } = parseQuery(api.ExportLogsQuery, req);
    // The first page before any byte: a bad filter or a down service is still a plain error reply.
    let page = await this.bus.request(audit.listToolCallLogs, { tenant_id, ...filter, page_size, ...(page_token ? { page_token } : {}) });
    let gone = false;
    res.on('close', () => (gone = true));
    res.status(200);
    res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Disposition', 'attachment; filename="tool_call_logs.ndjson"');
    for (;;) {
      for (const entry of page.tool_call_logs) {
        if (gone) return;
        if (!res.write(`${JSON.stringify(entry)}\n`)) await drained(res);
      }
      if (!page.next_page_token || gone) break;
      try {
        page = await this.bus.request(audit.listToolCallLogs, { tenant_id, ...filter, page_size, page_token: page.next_page_token });
      } catch (err) {
        res.write(`${JSON.stringify({ error: toVmcpError(err).toBody() })}\n`);
        break;
      }
    }
    res.end();
  }

  @Get('tool_call_logs/:execution_id')
  async get(@Req() req: Request, @Param('execution_id') id: string) {
    const tenant_id = await this.auth.tenant(req);
    return this.ops.getLog(tenant_id, { execution_id: parseParam(ExecutionId, id, 'execution_id') });
  }

  @Get('audit/verify')
  async verify(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    const { from, to } = parseQuery(api.VerifyAuditQuery, req);
    return verifyAuditChain(this.bus, { tenant_id, ...(from !== undefined ? { from_seq: from } : {}), ...(to !== undefined ? { to_seq: to } : {}) });
  }

  @Get('audit/settings')
  async settings(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    return this.bus.request(audit.getSettings, { tenant_id });
  }

  @Put('audit/settings')
  async putSettings(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    return this.bus.request(audit.putSettings, { tenant_id, ...parseBody(api.PutAuditSettingsBody, req) });
  }
}
