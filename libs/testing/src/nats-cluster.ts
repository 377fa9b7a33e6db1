import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.js';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface NatsClusterHandle {
  /** Client URL of the first node (clients learn the others from it). */
  readonly url: string;
  /** Client URLs of every node. */
  readonly urls: readonly string[];
  stop(): Promise<void>;
}

/**
 * A private JetStream cluster of `nodes` nats-servers on free ports (as infra/k8s runs three),
 * for tests of replicated streams: a single server refuses more than one replica. Resolves
 * once the cluster has a JetStream leader.
 */
export async function startNatsCluster(nodes = 3): Promise<NatsClusterHandle> {
  const clientPorts = await Promise.all(Array.from({ length: nodes }, () => freePort()));
  const routePorts = await Promise.all(Array.from({ length: nodes }, () => freePort()));
  const storeDir = mkdtempSync(join(tmpdir(), 'vmcp-nats-cluster-'));
  const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
  const children = clientPorts.map((port, i) => {
    const child = spawn(
      'nats-server',
      ['-a', '127.0.0.1', '-p', String(port), '-n', `node-${i}`, '-js', '-sd', join(storeDir, `node-${i}`), '--cluster_name', 'vmcp-test', '--cluster', `nats://127.0.0.1:${routePorts[i]}`, '--routes', routes],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    live.add(child);
    child.once('exit', () => live.delete(child));
    return child;
  });
  const urls = clientPorts.map((p) => `nats://127.0.0.1:${p}`);

  const stop = async () => {
    await Promise.all(
      children.map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise<void>((r) => c.once('exit', () => r()));
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
    rmSync(storeDir, { recursive: true, force: true });
  };

  try {
    // Every node answers JetStream requests once the nodes have found each other and elected a leader.
    for (const url of urls) {
      await waitFor(
        async () => {
          const nc = await connect({ servers: url, reconnect: false });
          try {
            await (await jetstreamManager(nc, { timeout: 1000 })).getAccountInfo();
            return true;
          } finally {
            await nc.close();
          }
        },
        { what: `JetStream on the cluster node ${url}`, timeoutMs: 20_000, intervalMs: 100 },
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: urls[0]!, urls, stop };
}
