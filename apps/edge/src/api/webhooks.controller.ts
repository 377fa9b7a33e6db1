import { Controller, Delete, Get, HttpCode, Post, Put, Req } from '@nestjs/common';
import { api, webhooks } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import type { Request } from 'express';
import { ApiPrincipalResolver } from '../auth/api-principal.js';
import { parseBody } from '../http/body.js';

/** The tenant's webhook: where vmcp POSTs its events, signed with a secret only the tenant sees. */
@Controller('api/v1/webhook')
export class WebhooksController {
  constructor(
    private readonly auth: ApiPrincipalResolver,
    private readonly bus: Bus,
  ) {}

  @Put()
  async put(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    return this.bus.request(webhooks.putWebhook, { tenant_id, ...parseBody(api.PutWebhookBody, req) });
  }

  @Get()
  async get(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    return this.bus.request(webhooks.getWebhook, { tenant_id });
  }

  @Delete()
  @HttpCode(200)
  async remove(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    return this.bus.request(webhooks.deleteWebhook, { tenant_id });
  }

  @Post('rotate_secret')
  @HttpCode(200)
  async rotateSecret(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    return this.bus.request(webhooks.rotateWebhookSecret, { tenant_id });
  }
}
