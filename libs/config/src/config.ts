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
  /** DNS-rebinding protection of /mcp: host names (any port) accepted besides VMCP_PUBLIC_URL's, comma-separated. */
  VMCP_ALLOWED_HOSTS: z.string().optional(),
  /** Likewise the browser origins (`scheme://host[:port]`) accepted besides VMCP_PUBLIC_URL's. */
  VMCP_ALLOWED_ORIGINS: z.string().optional(),
  VMCP_ADMIN_KEY: z.string().min(24, 'must be at least 24 characters').optional(),
  VMCP_MASTER_KEY: Base64Key.optional(),
  /** A file holding the master key instead (e.g. a mounted Kubernetes secret); not both. */
  VMCP_MASTER_KEY_FILE: z.string().min(1).optional(),
  /** Retired master keys, comma-separated: still unwrap data keys until a master-key rotation completes. */
  VMCP_MASTER_KEY_PREVIOUS: z.string().optional(),
  VMCP_AUDIT_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('AUDIT'),
  /**
   * How long the AUDIT stream keeps an event. The trail itself is in the audit database;
   * the stream only carries events until the audit service has stored them, so this bounds
   * its disk and is the longest the audit service may be down without losing events.
   */
  VMCP_AUDIT_STREAM_MAX_AGE_HOURS: z.coerce.number().int().min(1).max(8760).default(168),
  /** Audit: days entries are kept unless a tenant sets its own, and how often the purge job runs. */
  VMCP_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  VMCP_AUDIT_PURGE_INTERVAL_MS: z.coerce.number().int().min(100).max(7 * 86_400_000).default(3_600_000),
  VMCP_REVOCATIONS_BUCKET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('vmcp_revocations'),
  /**
   * Tenants that read their tool-call events (a webhook or a bus API cursor taking them): the
   * audit service publishes tool_call.* events for these tenants only.
   */
  VMCP_EVENT_INTEREST_BUCKET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('vmcp_event_interest'),
  /** MCP sessions of 2025-era clients (any edge replica serves any session), and tools/list paging. */
  VMCP_SESSIONS_BUCKET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('vmcp_sessions'),
  VMCP_SESSION_IDLE_SECONDS: z.coerce.number().int().min(1).max(7 * 86_400).default(1800),
  VMCP_TOOLS_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(100),
  VMCP_TOOLS_LIST_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
  /** When set, /metrics answers only requests with `Authorization: Bearer <token>`. */
  VMCP_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * Replicas of every JetStream stream and KV bucket a service creates: 1 on a single
   * nats-server, 3 on a three-node cluster (a stream keeps working while one node is down).
   */
  VMCP_JETSTREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  VMCP_BUS_TIMEOUT_MS: z.coerce.number().int().min(50).max(120_000).default(5000),
  VMCP_TOOL_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
  VMCP_EDGE_CACHE_TTL_MS: z.coerce.number().int().min(0).max(300_000).default(30_000),
  VMCP_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  VMCP_OAUTH_LINK_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(600),
  VMCP_OAUTH_REFRESH_MARGIN_SECONDS: z.coerce.number().int().min(0).max(3600).default(300),
  VMCP_OAUTH_HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  VMCP_OAUTH_ALLOW_HTTP: z.enum(['true', 'false']).optional(),
  /** JetStream stream of tenant-visible events (vmcp.events.v1.>), e.g. account status changes. */
  VMCP_EVENTS_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('VMCP_EVENTS'),
  /** Webhook delivery (executor): per-attempt timeout, retry schedule and when to give up. */
  VMCP_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  VMCP_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(12),
  VMCP_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(5_000),
  VMCP_WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(10).max(86_400_000).default(3_600_000),
  VMCP_WEBHOOK_MAX_AGE_MS: z.coerce.number().int().min(1_000).max(6 * 86_400_000).default(86_400_000),
  OTEL_SDK_DISABLED: z.string().optional(),
  OTEL_TRACES_EXPORTER: z.string().optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/**
 * The name of every variable loadConfig reads, for checks outside the code (the Kubernetes
 * manifests' test: a manifest sets no variable that is not here).
 */
export const ENV_VARIABLES: readonly string[] = Object.freeze(Object.keys(EnvSchema.shape));

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
  /**
   * Host names (lower-case, IPv6 in brackets; any port) the MCP endpoint accepts in `Host`:
   * VMCP_PUBLIC_URL's, then VMCP_ALLOWED_HOSTS.
   */
  readonly allowedHosts: readonly string[];
  /** Origins (`scheme://host[:port]`, as URL.origin spells them) it accepts in `Origin`: VMCP_PUBLIC_URL's, then VMCP_ALLOWED_ORIGINS. */
  readonly allowedOrigins: readonly string[];
  readonly adminKey: string;
  readonly masterKey: Buffer;
  /** Retired master keys (VMCP_MASTER_KEY_PREVIOUS), accepted for unwrapping only; empty outside the vault. */
  readonly previousMasterKeys: readonly Buffer[];
  readonly auditStream: string;
  /** VMCP_AUDIT_STREAM_MAX_AGE_HOURS, in milliseconds. */
  readonly auditStreamMaxAgeMs: number;
  /** Audit retention: the default days (per tenant settable) and the purge job's interval. */
  readonly auditRetention: { readonly defaultDays: number; readonly purgeIntervalMs: number };
  readonly revocationsBucket: string;
  /** KV bucket of the tenants that read their tool-call events (edge and policy mark, audit watches). */
  readonly eventInterestBucket: string;
  readonly mcp: {
    /** KV bucket of 2025-era MCP sessions (edge only). */
    readonly sessionsBucket: string;
    /** A session unused this long is gone (the bucket's TTL, refreshed on use). */
    readonly sessionIdleSeconds: number;
    /** Tools per tools/list page. */
    readonly toolsPageSize: number;
    /** `ttlMs` of a 2026-07-28 tools/list result: how long a client may reuse it. */
    readonly toolsListTtlMs: number;
  };
  readonly eventsStream: string;
  /** Replicas of the streams and buckets this service creates (an existing one is raised to it, never lowered). */
  readonly jetstreamReplicas: number;
  readonly webhooks: {
    readonly timeoutMs: number;
    readonly maxAttempts: number;
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
    readonly maxAgeMs: number;
  };
  readonly busTimeoutMs: number;
  readonly toolTimeoutMs: number;
  /**
   * On SIGTERM, how long the work in flight may still take once the service stops taking
   * more: a tool call for the edge and the executor (VMCP_TOOL_TIMEOUT_MS plus the bus hop
   * around it), one bus timeout for the others. A bus service waits this long at most for
   * the requests it is handling; the manifests' grace periods are sized from it.
   */
  readonly drainTimeoutMs: number;
  /**
   * How long an edge keeps a user's tool list and allow decisions (0: not at all). Changes
   * drop them at once through the tenant change marks; this bounds a missed mark.
   */
  readonly edgeCacheTtlMs: number;
  readonly oauth: {
    /** How long an authorization link (and its state) stays usable. */
    readonly linkTtlSeconds: number;
    /** An access token is refreshed this long before it expires (at most half its lifetime). */
    readonly refreshMarginSeconds: number;
    /** Budget of one request to a provider's token or revocation endpoint. */
    readonly httpTimeoutMs: number;
    /** Whether provider endpoints may be plain http (dev and tests; never by default in production). */
    readonly allowHttp: boolean;
  };
  readonly logLevel: string;
  readonly otel: { readonly exportTraces: boolean };
  /** Bearer token a Prometheus scrape of /metrics must carry; undefined: none asked. */
  readonly metricsToken: string | undefined;
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

const KEY_TEXT = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** A 32-byte key from its base64 text; the error names the variable, never the value. */
function decodeMasterKey(text: string, variable: string): Buffer {
  const trimmed = text.trim();
  const key = KEY_TEXT.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (key.length !== 32) throw new ConfigError(`${variable}: must be 32 bytes, base64-encoded (openssl rand -base64 32)`);
  return key;
}

/** The current master key's text: from VMCP_MASTER_KEY or the file VMCP_MASTER_KEY_FILE names. */
function masterKeyText(e: z.infer<typeof EnvSchema>): string | undefined {
  if (e.VMCP_MASTER_KEY && e.VMCP_MASTER_KEY_FILE) throw new ConfigError('VMCP_MASTER_KEY_FILE: set either it or VMCP_MASTER_KEY, not both');
  if (!e.VMCP_MASTER_KEY_FILE) return e.VMCP_MASTER_KEY;
  try {
    return readFileSync(e.VMCP_MASTER_KEY_FILE, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`VMCP_MASTER_KEY_FILE: cannot read ${e.VMCP_MASTER_KEY_FILE} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** VMCP_MASTER_KEY_PREVIOUS: each entry a 32-byte key; repeats and the current key are dropped. */
function previousKeys(list: string | undefined, current: Buffer): readonly Buffer[] {
  const keys: Buffer[] = [];
  const entries = (list ?? '').split(',').map((s) => s.trim());
  entries.forEach((text, i) => {
    if (text === '') return;
    const key = decodeMasterKey(text, `VMCP_MASTER_KEY_PREVIOUS (entry ${i + 1})`);
    if (!key.equals(current) && !keys.some((k) => k.equals(key))) keys.push(key);
  });
  return Object.freeze(keys);
}

/** A host name as URL.hostname spells it: lower-case, IPv6 in brackets, no port. */
const HOST_NAME = /^(?:\[[0-9a-f:.]+\]|[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?)$/;

/** The entries of a comma-separated list, trimmed, empty ones dropped. */
function listOf(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** VMCP_PUBLIC_URL's host name, then each VMCP_ALLOWED_HOSTS entry (a trailing dot dropped), without repeats. */
function allowedHosts(list: string | undefined, publicUrl: string): readonly string[] {
  const hosts = [new URL(publicUrl).hostname];
  listOf(list).forEach((entry, i) => {
    const host = entry.toLowerCase().replace(/\.$/, '');
    if (!HOST_NAME.test(host)) {
      throw new ConfigError(`VMCP_ALLOWED_HOSTS (entry ${i + 1}): must be a host name without scheme or port (every port is accepted), IPv6 in brackets`);
    }
    if (!hosts.includes(host)) hosts.push(host);
  });
  return Object.freeze(hosts);
}

/** VMCP_PUBLIC_URL's origin, then each VMCP_ALLOWED_ORIGINS entry, without repeats. */
function allowedOrigins(list: string | undefined, publicUrl: string): readonly string[] {
  const origins = [new URL(publicUrl).origin];
  listOf(list).forEach((entry, i) => {
    const url = URL.parse(entry);
    if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
      throw new ConfigError(`VMCP_ALLOWED_ORIGINS (entry ${i + 1}): must be an origin, http(s)://host[:port] with no path`);
    }
    if (!origins.includes(url.origin)) origins.push(url.origin);
  });
  return Object.freeze(origins);
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
      ? decodeMasterKey(
          masterKeyText(e) ?? devSecret(e.NODE_ENV, dataDir, 'master.key', 'VMCP_MASTER_KEY', () => randomBytes(32).toString('base64')),
          e.VMCP_MASTER_KEY_FILE ? 'VMCP_MASTER_KEY_FILE' : 'VMCP_MASTER_KEY',
        )
      : Buffer.alloc(0);
  const previousMasterKeys = service === 'vault' ? previousKeys(e.VMCP_MASTER_KEY_PREVIOUS, masterKey) : [];

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
    allowedHosts: allowedHosts(e.VMCP_ALLOWED_HOSTS, e.VMCP_PUBLIC_URL),
    allowedOrigins: allowedOrigins(e.VMCP_ALLOWED_ORIGINS, e.VMCP_PUBLIC_URL),
    adminKey,
    masterKey,
    previousMasterKeys,
    auditStream: e.VMCP_AUDIT_STREAM,
    auditStreamMaxAgeMs: e.VMCP_AUDIT_STREAM_MAX_AGE_HOURS * 3_600_000,
    auditRetention: { defaultDays: e.VMCP_AUDIT_RETENTION_DAYS, purgeIntervalMs: e.VMCP_AUDIT_PURGE_INTERVAL_MS },
    revocationsBucket: e.VMCP_REVOCATIONS_BUCKET,
    eventInterestBucket: e.VMCP_EVENT_INTEREST_BUCKET,
    mcp: {
      sessionsBucket: e.VMCP_SESSIONS_BUCKET,
      sessionIdleSeconds: e.VMCP_SESSION_IDLE_SECONDS,
      toolsPageSize: e.VMCP_TOOLS_PAGE_SIZE,
      toolsListTtlMs: e.VMCP_TOOLS_LIST_TTL_MS,
    },
    eventsStream: e.VMCP_EVENTS_STREAM,
    jetstreamReplicas: e.VMCP_JETSTREAM_REPLICAS,
    webhooks: {
      timeoutMs: e.VMCP_WEBHOOK_TIMEOUT_MS,
      maxAttempts: e.VMCP_WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: e.VMCP_WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: e.VMCP_WEBHOOK_RETRY_MAX_MS,
      maxAgeMs: e.VMCP_WEBHOOK_MAX_AGE_MS,
    },
    busTimeoutMs: e.VMCP_BUS_TIMEOUT_MS,
    toolTimeoutMs: e.VMCP_TOOL_TIMEOUT_MS,
    drainTimeoutMs: service === 'edge' || service === 'executor' ? e.VMCP_TOOL_TIMEOUT_MS + e.VMCP_BUS_TIMEOUT_MS : e.VMCP_BUS_TIMEOUT_MS,
    edgeCacheTtlMs: e.VMCP_EDGE_CACHE_TTL_MS,
    oauth: {
      linkTtlSeconds: e.VMCP_OAUTH_LINK_TTL_SECONDS,
      refreshMarginSeconds: e.VMCP_OAUTH_REFRESH_MARGIN_SECONDS,
      httpTimeoutMs: e.VMCP_OAUTH_HTTP_TIMEOUT_MS,
      allowHttp: e.VMCP_OAUTH_ALLOW_HTTP ? e.VMCP_OAUTH_ALLOW_HTTP === 'true' : e.NODE_ENV !== 'production',
    },
    logLevel: e.LOG_LEVEL,
    otel: {
      // The exporter itself reads the rest of the standard OTEL_ variables.
      exportTraces:
        e.OTEL_SDK_DISABLED !== 'true' &&
        e.OTEL_TRACES_EXPORTER !== 'none' &&
        Boolean(e.OTEL_EXPORTER_OTLP_ENDPOINT || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
    },
    metricsToken: e.VMCP_METRICS_TOKEN,
  };
  return Object.freeze(config);
}

/** Nest injection token of the frozen config. */
export const VMCP_CONFIG = Symbol.for('vmcp.config');
