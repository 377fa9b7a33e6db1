import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { metrics, PROMETHEUS_CONTENT_TYPE, scrapeAllowed } from '@vmcp/telemetry';
import type { Request, Response } from 'express';

/**
 * The edge's metrics in the Prometheus text format (docs/operations.md). The edge port
 * faces agents: set VMCP_METRICS_TOKEN, or keep /metrics off the public ingress.
 */
@Controller()
export class MetricsController {
  constructor(@Inject(VMCP_CONFIG) private readonly config: VmcpConfig) {}

  @Get('metrics')
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    res.setHeader('cache-control', 'no-store');
    if (!scrapeAllowed(req.headers.authorization, this.config.metricsToken)) {
      res.status(401).json({ error: { code: 'UNAUTHENTICATED', message: 'a valid metrics token is required' } });
      return;
    }
    res.status(200).type(PROMETHEUS_CONTENT_TYPE).send(await metrics().scrape());
  }
}
