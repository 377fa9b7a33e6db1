import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ensureAuditStream } from '@vmcp/messaging';
import { PinoNestLogger, startCore } from '@vmcp/runtime';
import { VMCP_VERSION } from '@vmcp/telemetry';
import { RevocationsService } from './auth/revocations.service.js';
import { EdgeModule } from './edge.module.js';
import { bodyErrors, depthGuard } from './http/body.js';
import { HttpErrorsFilter } from './http/http-errors.filter.js';
import { httpMetrics } from './metrics/http-metrics.middleware.js';

async function main(): Promise<void> {
  const core = await startCore('edge');
  const { config, logger, bus } = core;
  const app = await NestFactory.create<NestExpressApplication>(EdgeModule.forRoot(core), {
    bodyParser: false,
    logger: new PinoNestLogger(logger),
  });
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // First, so requests refused by the body parser are counted too.
  app.use(httpMetrics);
  app.useBodyParser('json', { limit: config.http.maxBodyBytes });
  app.use(bodyErrors);
  app.use(depthGuard);
  app.useGlobalFilters(new HttpErrorsFilter(logger));

  // The stream must exist before the first call: a call without its "started" record is refused.
  // Made if missing, never reconfigured: the audit service owns it.
  await ensureAuditStream(bus, config.auditStream, { maxAgeMs: config.auditStreamMaxAgeMs, reconfigure: false }).catch((err: Error) =>
    logger.warn({ err: err.message }, 'audit stream not ready yet; calls are refused until it is'),
  );
  app.get(RevocationsService).start();

  await app.listen(config.http.port, config.http.host);
  logger.info(
    { version: VMCP_VERSION, url: config.publicUrl, port: config.http.port, nats_url: config.nats.url },
    'vmcp-edge ready',
  );
  const stop = () => {
    void app.close().finally(async () => {
      await bus.close().catch(() => undefined);
      await core.telemetry.shutdown().catch(() => undefined);
      logger.flush();
      process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
