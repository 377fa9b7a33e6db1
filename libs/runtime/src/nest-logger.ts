import type { LoggerService } from '@nestjs/common';
import type { Logger } from '@vmcp/telemetry';

/** Nest's own log lines through the service's pino logger (JSON, trace ids, redaction). */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]) {
    this.logger.info({ context: contextOf(rest) }, String(message));
  }
  error(message: unknown, ...rest: unknown[]) {
    this.logger.error({ context: contextOf(rest) }, String(message));
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.logger.warn({ context: contextOf(rest) }, String(message));
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.logger.debug({ context: contextOf(rest) }, String(message));
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.logger.trace({ context: contextOf(rest) }, String(message));
  }
}

function contextOf(rest: unknown[]): string | undefined {
  const last = rest[rest.length - 1];
  return typeof last === 'string' ? last : undefined;
}
