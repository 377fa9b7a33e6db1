import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

const Port = z.coerce.number().int().min(0).max(65535);
const Base64Key = z
  .string()
  .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)');

/** Every variable vmcp reads; nothing else in the code reads process.env. */
const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL (leave unset for embedded SQLite)')
    .optional(),
  VMCP_DB_SCHEMA_PREFIX: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,40}$/, 'must be a lower-case SQL identifier of at most 41 characters')
    .default('vmcp'),
  VMCP_DATA_DIR: z.string().min(1).default('./.vmcp'),
  VMCP_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  VMCP_HTTP_PORT: Port.default(8080),
  VMCP_HEALTH_PORT: Port.optional(),
  VMCP_PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .default('http://127.0.0.1:8080')
    .transform((u) => u.replace(/\/+$/, '')),
  VMCP_ADMIN_KEY: z.string().min(24, 'must be at least 24 characters').optional(),
  VMCP_MASTER_KEY: Base64Key.optional(),
  VMCP_AUDIT_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('AUDIT'),
  VMCP_REVOCATIONS_BUCKET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('vmcp_revocations'),
  VMCP_BUS_TIMEOUT_MS: z.coerce.number().int().min(50).max(120_000).default(5000),
  VMCP_TOOL_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
  VMCP_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  OTEL_SDK_DISABLED: z.string().optional(),
  OTEL_TRACES_EXPORTER: z.string().optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type ServiceName = 'edge' | 'policy' | 'vault' | 'executor' | 'audit';

const DEFAULT_HEALTH_PORTS: Record<ServiceName, number> = {
  edge: 0,
  policy: 8091,
  vault: 8092,
  executor: 8093,
  audit: 8094,
};

export interface VmcpConfig {
  readonly service: ServiceName;
  readonly env: 'development' | 'test' | 'production';
  readonly nats: { readonly url: string; readonly user?: string; readonly password?: string };
  readonly database:
    | { readonly kind: 'sqlite'; readonly file: string }
    | { readonly kind: 'postgres'; readonly url: string; readonly schema: string };
  readonly dataDir: string;
  readonly http: { readonly host: string; readonly port: number; readonly maxBodyBytes: number };
  readonly healthPort: number;
  readonly publicUrl: string;
  readonly adminKey: string;
  readonly masterKey: Buffer;
  readonly auditStream: string;
  readonly revocationsBucket: string;
  readonly busTimeoutMs: number;
  readonly toolTimeoutMs: number;
  readonly logLevel: string;
  readonly otel: { readonly exportTraces: boolean };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * A dev-only secret: read from the data dir, or generated there (mode 0600) on first
 * start. In production a missing secret stops the service instead.
 */
function devSecret(env: string, dataDir: string, file: string, variable: string, make: () => string): string {
  if (env === 'production') throw new ConfigError(`${variable} is required when NODE_ENV=production`);
  const path = join(dataDir, file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const value = make();
  try {
    writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  } catch {
    // Another service generated it first; theirs wins so every process agrees.
    return readFileSync(path, 'utf8').trim();
  }
  chmodSync(path, 0o600);
  return value;
}

/** Parses the environment once; a bad value throws a ConfigError naming the variable. */
export function loadConfig(service: ServiceName, source: NodeJS.ProcessEnv = process.env): VmcpConfig {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.VMCP_DATA_DIR);
  // Only the services that use a secret read or generate it.
  const adminKey =
    service === 'edge'
      ? (e.VMCP_ADMIN_KEY ??
        devSecret(e.NODE_ENV, dataDir, 'admin.key', 'VMCP_ADMIN_KEY', () => `vmcp_admin_${randomBytes(24).toString('base64url')}`))
      : '';
  const masterKey =
    service === 'vault'
      ? Buffer.from(
          e.VMCP_MASTER_KEY ??
            devSecret(e.NODE_ENV, dataDir, 'master.key', 'VMCP_MASTER_KEY', () => randomBytes(32).toString('base64')),
          'base64',
        )
      : Buffer.alloc(0);
  if (service === 'vault' && masterKey.length !== 32) throw new ConfigError('VMCP_MASTER_KEY: must be 32 bytes, base64-encoded');

  const config: VmcpConfig = {
    service,
    env: e.NODE_ENV,
    nats: { url: e.NATS_URL, user: e.NATS_USER, password: e.NATS_PASSWORD },
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL, schema: `${e.VMCP_DB_SCHEMA_PREFIX}_${service}` }
      : { kind: 'sqlite', file: join(dataDir, `${service}.sqlite`) },
    dataDir,
    http: { host: e.VMCP_HTTP_HOST, port: e.VMCP_HTTP_PORT, maxBodyBytes: e.VMCP_MAX_BODY_BYTES },
    healthPort: e.VMCP_HEALTH_PORT ?? DEFAULT_HEALTH_PORTS[service],
    publicUrl: e.VMCP_PUBLIC_URL,
    adminKey,
    masterKey,
    auditStream: e.VMCP_AUDIT_STREAM,
    revocationsBucket: e.VMCP_REVOCATIONS_BUCKET,
    busTimeoutMs: e.VMCP_BUS_TIMEOUT_MS,
    toolTimeoutMs: e.VMCP_TOOL_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    otel: {
      // The exporter itself reads the rest of the standard OTEL_ variables.
      exportTraces:
        e.OTEL_SDK_DISABLED !== 'true' &&
        e.OTEL_TRACES_EXPORTER !== 'none' &&
        Boolean(e.OTEL_EXPORTER_OTLP_ENDPOINT || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
    },
  };
  return Object.freeze(config);
}

/** Nest injection token of the frozen config. */
export const VMCP_CONFIG = Symbol.for('vmcp.config');
