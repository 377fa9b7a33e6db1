import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReadinessChecks = Record<string, () => Promise<boolean>>;

/** Runs every check; a check that throws or takes over 2 s counts as failed. */
export async function runChecks(checks: ReadinessChecks): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const ok = await Promise.race([
        check().catch(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(false), 2000).unref()),
      ]);
      return [name, ok] as const;
    }),
  );
  const result = Object.fromEntries(entries);
  return { ready: entries.every(([, ok]) => ok), checks: result };
}

/** /healthz (process up) and /readyz (real checks) for a bus service; nothing else. */
export async function serveHealth(host: string, port: number, checks: ReadinessChecks): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { error: { code: 'INVALID_ARGUMENT', message: 'GET only' } });
    if (path === '/healthz') return send(200, { status: 'ok' });
    if (path === '/readyz') {
      void runChecks(checks).then((r) => send(r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not_ready', checks: r.checks }));
      return;
    }
    send(404, { error: { code: 'NOT_FOUND', message: 'not found' } });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}
