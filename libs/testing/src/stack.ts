import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { importJWK, SignJWT, type JWK } from 'jose';
import pg from 'pg';
import { databaseEnv, TEST_DATABASE_URL, type DatabaseKind } from './databases.js';
import { freePort, uniqueName, waitFor } from './ports.js';
import { parsePrometheusText } from './prometheus-text.js';

export const SERVICES = ['policy', 'vault', 'executor', 'audit', 'edge'] as const;
export type Service = (typeof SERVICES)[number];

export interface StackOptions {
  readonly natsUrl: string;
  readonly database: DatabaseKind;
  /** Extra environment for every service (keep LOG_LEVEL at info or lower: readiness is read from the log). */
  readonly env?: Record<string, string>;
  /** Extra environment per service. */
  readonly serviceEnv?: Partial<Record<Service, Record<string, string>>>;
  readonly readyTimeoutMs?: number;
  /** Per-service NATS users (see natsUsers and the permission file). */
  readonly natsUsers?: Record<string, { user: string; password: string }>;
}

export interface EdgeReplica {
  /** This replica's own base URL (tokens still name the stack's public URL). */
  readonly url: string;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export interface Replica {
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export interface Stack {
  readonly baseUrl: string;
  readonly publicUrl: string;
  readonly adminKey: string;
  readonly env: Readonly<Record<string, string>>;
  /** Every line every service wrote to stdout or stderr, in arrival order. */
  logs(): string[];
  /** Services that exited without being asked to. */
  exited(): Service[];
  /**
   * Base URL of a service's /healthz, /readyz and /metrics: the edge's HTTP port, or the
   * health port a bus service printed in its ready line (VMCP_HEALTH_PORT=0 picks a free one).
   */
  healthUrl(service: Service): string;
  stop(service: Service): Promise<void>;
  kill(service: Service): Promise<void>;
  start(service: Service): Promise<void>;
  /**
   * Another edge process on its own port, sharing the public URL, NATS, stores and keys:
   * a second replica as it would sit behind a load balancer. Closed with the stack.
   */
  startEdgeReplica(): Promise<EdgeReplica>;
  /**
   * Another process of a bus service, same environment: a second member of its queue group
   * (the service itself stays `service` for stop, kill and start). Closed with the stack.
   */
  startReplica(service: Exclude<Service, 'edge'>): Promise<Replica>;
  /** The running processes' ids, keyed by service (`edge#2`, `executor#6`… for extra replicas), for benchmarks that read their CPU time. */
  pids(): Record<string, number>;
  /** A session token signed with policy's own key, with any expiry (for expiry tests). */
  signSessionToken(o: { configId: string; identifier: string; expiresInSeconds: number }): Promise<string>;
  close(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * Fresh stream and bucket names, so stacks sharing one NATS never meet. Under the permission
 * file (per-service users) the default names instead: the file grants those only, and such a
 * stack has a nats-server of its own.
 */
function streamNames(options: StackOptions): Record<string, string> {
  if (options.natsUsers) {
    return { VMCP_AUDIT_STREAM: 'AUDIT', VMCP_REVOCATIONS_BUCKET: 'vmcp_revocations', VMCP_EVENTS_STREAM: 'VMCP_EVENTS', VMCP_EVENT_INTEREST_BUCKET: 'vmcp_event_interest' };
  }
  return {
    VMCP_AUDIT_STREAM: uniqueName('AUDIT_'),
    VMCP_REVOCATIONS_BUCKET: uniqueName('rev_'),
    VMCP_EVENTS_STREAM: uniqueName('EVENTS_'),
    VMCP_EVENT_INTEREST_BUCKET: uniqueName('interest_'),
  };
}

/**
 * The five built services as separate processes, isolated per test file: a fresh data
 * dir or Postgres schema prefix, fresh stream and bucket names (see streamNames), free ports,
 * generated keys.
 * Build first (`npm run build`); the children run apps/<service>/dist/main.js.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const db = databaseEnv(options.database);
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const adminKey = `vmcp_admin_${randomBytes(24).toString('base64url')}`;
  const env: Record<string, string> = {
    ...db.env,
    NODE_ENV: 'test',
    NATS_URL: options.natsUrl,
    VMCP_HTTP_PORT: String(port),
    VMCP_HTTP_HOST: '127.0.0.1',
    VMCP_HEALTH_PORT: '0',
    VMCP_PUBLIC_URL: publicUrl,
    VMCP_ADMIN_KEY: adminKey,
    VMCP_MASTER_KEY: randomBytes(32).toString('base64'),
    ...streamNames(options),
    // The shipped default: a first tool discovery (upstream session, vault, listing) on a
    // loaded CI machine is judged as a deployment would judge it. Tests of timeouts set less.
    VMCP_BUS_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const lines: string[] = [];
  // Keyed by service, or `edge#2`, `executor#6`… for extra replicas.
  const children = new Map<string, ChildProcess>();
  const stopping = new Set<string>();
  const died: Service[] = [];
  const healthPorts = new Map<Service, number>();
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;

  const launch = async (service: Service, key: string = service, extraEnv: Record<string, string> = {}) => {
    const child = spawn(process.execPath, [join(ROOT, 'apps', service, 'dist', 'main.js')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        ...env,
        ...(options.natsUsers?.[service] ? { NATS_USER: options.natsUsers[service].user, NATS_PASSWORD: options.natsUsers[service].password } : {}),
        ...options.serviceEnv?.[service],
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    children.set(key, child);
    let ready = false;
    const own: string[] = [];
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        own.push(line);
        if (line.includes(`"vmcp-${service} ready"`)) {
          const port = /"health_port":(\d+)/.exec(line)?.[1];
          if (port && key === service) healthPorts.set(service, Number(port));
          ready = true;
        }
      });
    }
    child.once('exit', () => {
      live.delete(child);
      if (!stopping.has(key) && key === service) died.push(service);
    });
    await waitFor(() => ready || (child.exitCode !== null ? Promise.reject(new Error(`exited with ${child.exitCode}`)) : false), {
      timeoutMs: readyTimeoutMs,
      what: `vmcp-${service} to start`,
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n--- vmcp-${service} output ---\n${own.slice(-40).join('\n')}`);
    });
  };

  const edgeReady = () =>
    waitFor(async () => (await fetch(`${publicUrl}/readyz`)).status === 200, { timeoutMs: readyTimeoutMs, what: 'edge /readyz' });

  const stop = async (key: string, signal: NodeJS.Signals) => {
    const child = children.get(key);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    stopping.add(key);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    stopping.delete(key);
  };

  const close = async () => {
    await Promise.allSettled([...children.keys()].map((k) => stop(k, 'SIGTERM')));
    await db.drop().catch(() => undefined);
  };

  try {
    await Promise.all(SERVICES.map((s) => launch(s)));
    await edgeReady();
  } catch (err) {
    await close();
    throw err;
  }

  return {
    baseUrl: publicUrl,
    publicUrl,
    adminKey,
    env,
    logs: () => [...lines],
    exited: () => [...died],
    healthUrl(service) {
      if (service === 'edge') return publicUrl;
      const port = healthPorts.get(service);
      if (!port) throw new Error(`vmcp-${service} has not printed its health port`);
      return `http://127.0.0.1:${port}`;
    },
    pids: () => Object.fromEntries([...children].filter(([, c]) => c.exitCode === null && c.pid !== undefined).map(([k, c]) => [k, c.pid!])),
    stop: (s) => stop(s, 'SIGTERM'),
    kill: (s) => stop(s, 'SIGKILL'),
    async start(s) {
      await launch(s);
      await edgeReady();
    },
    async startEdgeReplica() {
      const replicaPort = await freePort();
      const key = `edge#${children.size}`;
      const url = `http://127.0.0.1:${replicaPort}`;
      await launch('edge', key, { VMCP_HTTP_PORT: String(replicaPort) });
      await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, { timeoutMs: readyTimeoutMs, what: 'edge replica /readyz' });
      return { url, stop: () => stop(key, 'SIGTERM'), kill: () => stop(key, 'SIGKILL') };
    },
    async startReplica(service) {
      const key = `${service}#${children.size}`;
      await launch(service, key);
      return { stop: () => stop(key, 'SIGTERM'), kill: () => stop(key, 'SIGKILL') };
    },
    async signSessionToken({ configId, identifier, expiresInSeconds }) {
      const { key, tenantId } = await readPolicySigningKey(options.database, db.dataDir, db.schemaPrefix, configId);
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ tid: tenantId, cfg: configId })
        .setProtectedHeader({ alg: 'EdDSA', kid: key.kid!, typ: 'JWT' })
        .setIssuer(publicUrl)
        .setAudience(`${publicUrl}/mcp/${configId}`)
        .setSubject(identifier)
        .setJti(`tok_${randomBytes(16).toString('hex')}`)
        .setIssuedAt(now - 3600)
        .setExpirationTime(now + expiresInSeconds)
        .sign(await importJWK(key, 'EdDSA'));
    },
    close,
  };
}

async function readPolicySigningKey(kind: DatabaseKind, dataDir: string, schemaPrefix: string, configId: string) {
  const keySql = 'SELECT private_jwk FROM signing_keys ORDER BY created_at DESC LIMIT 1';
  let jwk: string;
  let tenantId: string;
  if (kind === 'sqlite') {
    const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string, o: { readonly: boolean }) => {
      prepare(sql: string): { get(...args: unknown[]): Record<string, string> };
      close(): void;
    };
    const sqlite = new Database(join(dataDir, 'policy.sqlite'), { readonly: true });
    try {
      jwk = sqlite.prepare(keySql).get().private_jwk!;
      tenantId = sqlite.prepare('SELECT tenant_id FROM mcp_configs WHERE id = ?').get(configId).tenant_id!;
    } finally {
      sqlite.close();
    }
  } else {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query(`SET search_path TO "${schemaPrefix}_policy"`);
      jwk = (await client.query<{ private_jwk: string }>(keySql)).rows[0]!.private_jwk;
      tenantId = (await client.query<{ tenant_id: string }>('SELECT tenant_id FROM mcp_configs WHERE id = $1', [configId])).rows[0]!.tenant_id;
    } finally {
      await client.end();
    }
  }
  return { key: JSON.parse(jwk) as JWK, tenantId };
}

/**
 * Waits until the stack's audit service publishes tool-call events only for the tenants that
 * read them (its view of the event-interest bucket is complete), as it does once policy and
 * the edge have marked their tenants after starting; until then it publishes them for all.
 */
export async function waitForToolCallEventFilter(stack: Stack, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      const res = await fetch(`${stack.healthUrl('audit')}/metrics`);
      return res.ok && parsePrometheusText(await res.text()).sum('vmcp_audit_tool_call_events_filtered') === 1;
    },
    { timeoutMs, what: 'the audit service to filter tool-call events by interest' },
  );
}
