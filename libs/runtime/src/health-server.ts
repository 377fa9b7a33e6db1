import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROMETHEUS_CONTENT_TYPE, scrapeAllowed } from '@vmcp/telemetry';

export type ReadinessChecks = Record<string, () => Promise<boolean>>;

export interface ReadinessResult {
  readonly ready: boolean;
  readonly checks: Record<string, boolean>;
  /** Names of the checks that failed, for the 503 body. */
  readonly failing: string[];
}

/** Runs every check; a check that throws or takes over 2 s counts as failed. */
export async function runChecks(checks: ReadinessChecks): Promise<ReadinessResult> {
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
  const failing = entries.filter(([, ok]) => !ok).map(([name]) => name);
  return { ready: failing.length === 0, checks: result, failing };
}

/** /metrics of a bus service: the Prometheus text, optionally behind a bearer token. */
export interface MetricsEndpoint {
  scrape(): Promise<string>;
  /** VMCP_METRICS_TOKEN; unset: no token asked. */
  readonly token?: string | undefined;
}

/** /healthz (process up), /readyz (real checks) and /metrics for a bus service; nothing else. */
export async function serveHealth(host: string, port: number, checks: ReadinessChecks, metricsEndpoint?: MetricsEndpoint): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { error: { code: 'INVALID_ARGUMENT', message: 'GET only' } });
    if (path === '/healthz') return send(200, { status: 'ok' });
    if (path === '/readyz') {
      void runChecks(checks).then((r) =>
        send(r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not_ready', checks: r.checks, ...(r.ready ? {} : { failing: r.failing }) }),
      );
      return;
    }
    if (path === '/metrics' && metricsEndpoint) {
      if (!scrapeAllowed(req.headers.authorization, metricsEndpoint.token)) {
        return send(401, { error: { code: 'UNAUTHENTICATED', message: 'a valid metrics token is required' } });
      }
      void metricsEndpoint.scrape().then(
        (text) => {
          res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' });
          res.end(text);
        },
        () => send(500, { error: { code: 'INTERNAL', message: 'metrics could not be collected' } }),
      );
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
