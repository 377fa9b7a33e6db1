import { Controller, Get, Inject, Res } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { ping } from '@vmcp/contracts';
import { Bus, streamExists } from '@vmcp/messaging';
import { runChecks } from '@vmcp/runtime';
import type { Response } from 'express';
import { RevocationsService } from '../auth/revocations.service.js';
import { buildOpenApiDocument } from './openapi.js';

const PING_TIMEOUT_MS = 1000;

@Controller()
export class HealthController {
  private openApi?: Record<string, unknown>;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly bus: Bus,
    private readonly revocations: RevocationsService,
  ) {}

  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  /**
   * Ready when NATS is connected, every bus service answers, the audit stream exists (no
   * call runs without its "started" record) and the revocation list is loaded.
   */
  @Get('readyz')
  async readyz(@Res() res: Response) {
    const answers = (rpc: (typeof ping)[keyof typeof ping]) => async () =>
      (await this.bus.request(rpc, {}, { timeoutMs: PING_TIMEOUT_MS })).ready;
    const result = await runChecks({
      nats: async () => this.bus.isConnected(),
      policy: answers(ping.policy),
      vault: answers(ping.vault),
      executor: answers(ping.executor),
      audit: answers(ping.audit),
      audit_stream: () => streamExists(this.bus, this.config.auditStream),
      revocations: async () => this.revocations.isReady(),
    });
    res
      .status(result.ready ? 200 : 503)
      .json({ status: result.ready ? 'ready' : 'not_ready', checks: result.checks, ...(result.ready ? {} : { failing: result.failing }) });
  }

  @Get('openapi.json')
  openapi() {
    this.openApi ??= buildOpenApiDocument(this.config.publicUrl);
    return this.openApi;
  }
}
