import { trace } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';

/**
 * Keys whose values are never written to a log line, at any of the first levels of
 * nesting. Credentials should never be passed to a logger at all; this is the net.
 */
export const SECRET_KEYS = [
  'token',
  'api_key',
  'apiKey',
  'password',
  'secret',
  'client_secret',
  'signing_secret',
  'access_token',
  'refresh_token',
  'authorization',
  'Authorization',
  'cookie',
  'headers',
  'static_auth',
  'authorization_details',
  'credential',
  'master_key',
];

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const k of SECRET_KEYS) paths.push(k, `*.${k}`, `*.*.${k}`);
  return paths;
}

export type { Logger };

/** Structured JSON logs with the active trace and span ids, and secrets censored. */
export function createLogger(service: string, level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: `vmcp-${service}` },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths(), censor: '[REDACTED]' },
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const span = trace.getActiveSpan();
        if (!span) return {};
        const { traceId, spanId } = span.spanContext();
        return { trace_id: traceId, span_id: spanId };
      },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
