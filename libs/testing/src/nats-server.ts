import { serviceInbox } from '@vmcp/messaging';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, waitFor } from './ports.js';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** Starts it again on the same port and storage (JetStream state survives). */
  restart(): Promise<void>;
  /** Stops it and leaves it down, storage kept, until restart() (outage tests). */
  halt(): Promise<void>;
  /** The running server's process id (benchmarks read its CPU time); undefined while it is down. */
  pid(): number | undefined;
  /**
   * Every permissions violation the server logged so far, one line each, naming the client
   * (`"<client version>:nats.js:<connection name>"`), its user and the refused subject.
   */
  violations(): string[];
}

export interface NatsServerOptions {
  /** A nats-server config file (e.g. the project's permission file). */
  readonly configFile?: string;
  /** Environment of nats-server (the permission file reads passwords from it). */
  readonly env?: Record<string, string>;
  readonly jetstream?: boolean;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The project's per-service permission file (infra/k8s/base/nats), as used in production. */
export const NATS_PERMISSIONS_FILE = fileURLToPath(new URL('../../../infra/k8s/base/nats/permissions.conf', import.meta.url));

/** One user of the permission file, with a fresh password. */
export interface NatsUser {
  readonly user: string;
  readonly password: string;
  /** The only reply subjects the user may subscribe to (serviceInbox in @vmcp/messaging). */
  readonly inboxPrefix: string;
}

/**
 * The permission file's users with fresh passwords: the five services (startStack hands each
 * its own) and `internal`, the user of a tenant's own services calling the public bus API
 * (docs/bus-api.md), who must connect with inbox prefix `_INBOX_internal`.
 */
export function natsUsers(): { serverEnv: Record<string, string>; users: Record<string, NatsUser> } {
  const serverEnv: Record<string, string> = {};
  const users: Record<string, NatsUser> = {};
  for (const service of ['edge', 'policy', 'vault', 'executor', 'audit', 'internal', 'operator']) {
    // nats-server parses an environment value like a config token: one that starts with a
    // digit or '-' becomes a number and the login fails. A letter first keeps it a string.
    const password = `p${randomBytes(18).toString('hex')}`;
    serverEnv[`VMCP_NATS_${service.toUpperCase()}_PASSWORD`] = password;
    users[service] = { user: service, password, inboxPrefix: serviceInbox(service) };
  }
  return { serverEnv, users };
}

/** A private nats-server on a free port with its own JetStream storage, for one test file. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'vmcp-nats-'));
  let child: ChildProcess | undefined;
  const violations: string[] = [];

  const launch = async () => {
    const args = ['-a', '127.0.0.1', '-p', String(port)];
    if (options.jetstream !== false) args.push('-js', '-sd', storeDir);
    if (options.configFile) args.push('-c', options.configFile);
    const started = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...options.env } });
    child = started;
    // A test process that dies never leaves its nats-server behind.
    live.add(started);
    started.once('exit', () => live.delete(started));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    // nats-server logs each refused publish or subscription: `… - Publish Violation - User "edge", Subject "…"`.
    if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => line.includes(' Violation - ') && violations.push(line));
    await waitFor(() => portOpen(port), { what: `nats-server on port ${port}`, timeoutMs: 10_000 }).catch((err: Error) => {
      throw new Error(`${err.message}\n${stderr}`);
    });
  };

  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop() {
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
    async restart() {
      await stop();
      await launch();
    },
    halt: stop,
    pid: () => (child && child.exitCode === null ? child.pid : undefined),
    violations: () => [...violations],
  };
}
