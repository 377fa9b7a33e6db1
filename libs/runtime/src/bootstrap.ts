import 'reflect-metadata';
import { Global, Module, type DynamicModule, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig, VMCP_CONFIG, type ServiceName, type VmcpConfig } from '@vmcp/config';
import { VMCP_VERSION } from '@vmcp/telemetry';
import { Bus, serviceInbox, VmcpNatsServer } from '@vmcp/messaging';
import { createLogger, startTelemetry, type Logger, type Telemetry } from '@vmcp/telemetry';
import { portOf, serveHealth, type ReadinessChecks } from './health-server.js';
import { PinoNestLogger } from './nest-logger.js';

/** Nest injection token of the service's pino logger. */
export const VMCP_LOGGER = Symbol.for('vmcp.logger');

/** What every service process has before Nest starts: config, telemetry, logger, bus. */
export interface Core {
  readonly config: VmcpConfig;
  readonly telemetry: Telemetry;
  readonly logger: Logger;
  readonly bus: Bus;
}

export async function startCore(service: ServiceName): Promise<Core> {
  let config: VmcpConfig;
  try {
    config = loadConfig(service);
  } catch (err) {
    // The one place a service may write to stderr directly: it has no logger yet.
    process.stderr.write(`vmcp-${service}: ${(err as Error).message}\n`);
    process.exit(78); // EX_CONFIG
  }
  const telemetry = startTelemetry(config);
  const logger = createLogger(service, config.logLevel);
  let bus: Bus;
  try {
    bus = await Bus.connect({
      url: config.nats.url,
      name: `vmcp-${service}`,
      user: config.nats.user,
      password: config.nats.password,
      inboxPrefix: serviceInbox(service),
      timeoutMs: config.busTimeoutMs,
      jetstreamReplicas: config.jetstreamReplicas,
    });
  } catch (err) {
    logger.fatal({ nats_url: config.nats.url, err: (err as Error).message }, 'cannot connect to NATS');
    logger.flush();
    process.exit(69); // EX_UNAVAILABLE
  }
  return { config, telemetry, logger, bus };
}

/** A global module providing the core objects to every provider of the service. */
export function coreModule(core: Core): DynamicModule {
  @Global()
  @Module({})
  class CoreModule {}
  return {
    module: CoreModule,
    providers: [
      { provide: VMCP_CONFIG, useValue: core.config },
      { provide: VMCP_LOGGER, useValue: core.logger },
      { provide: Bus, useValue: core.bus },
    ],
    exports: [VMCP_CONFIG, VMCP_LOGGER, Bus],
  };
}

export interface BusServiceOptions {
  readonly service: Exclude<ServiceName, 'edge'>;
  readonly module: (core: Core) => DynamicModule | Promise<DynamicModule>;
  /** Work to finish before the service answers (e.g. the audit consumer's stream). */
  readonly beforeListen?: (app: INestMicroservice) => Promise<void>;
  /** Readiness checks beyond the NATS connection (database, stream, …). */
  readonly readiness?: (app: INestMicroservice) => ReadinessChecks;
}

/** The service's Nest microservice, answering its subjects in its own queue group. */
export async function createBusServiceApp(core: Core, options: BusServiceOptions): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice(await options.module(core), {
    strategy: new VmcpNatsServer(core.bus, options.service, { drainTimeoutMs: core.config.drainTimeoutMs }),
    logger: new PinoNestLogger(core.logger),
  });
  await options.beforeListen?.(app);
  await app.listen();
  return app;
}

/**
 * Starts a bus service: Nest microservice answering its subjects in its own queue group,
 * /healthz and /readyz on the health port, graceful drain on SIGTERM and SIGINT: leave the
 * queue groups, let every request in flight reply (at most VmcpConfig.drainTimeoutMs), run
 * the shutdown hooks, then drain the NATS connection.
 */
export async function runBusService(options: BusServiceOptions): Promise<void> {
  const core = await startCore(options.service);
  const { config, logger, bus } = core;
  const app = await createBusServiceApp(core, options);
  const checks: ReadinessChecks = { nats: async () => bus.isConnected(), ...(options.readiness?.(app) ?? {}) };
  const health = await serveHealth(config.http.host, config.healthPort, checks, {
    scrape: () => core.telemetry.metrics.scrape(),
    token: config.metricsToken,
  });
  logger.info(
    { version: VMCP_VERSION, health_port: portOf(health), nats_url: config.nats.url, database: config.database.kind },
    `vmcp-${options.service} ready`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, drain_timeout_ms: config.drainTimeoutMs }, `vmcp-${options.service} draining`);
    health.close();
    await app.close().catch((err: Error) => logger.error({ err: err.message }, 'error while closing'));
    await bus.close().catch(() => undefined);
    await core.telemetry.shutdown().catch(() => undefined);
    logger.info(`vmcp-${options.service} stopped`);
    logger.flush();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
