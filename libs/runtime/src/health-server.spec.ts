import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { portOf, serveHealth } from './health-server.js';

describe('serveHealth', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  const start = async (checks: Record<string, () => Promise<boolean>>, token?: string) => {
    server = await serveHealth('127.0.0.1', 0, checks, { scrape: async () => '# TYPE vmcp_up gauge\nvmcp_up 1\n', token });
    return `http://127.0.0.1:${portOf(server)}`;
  };

  it('answers /readyz 503 naming the failing checks, and 200 when all pass', async () => {
    let database = false;
    const url = await start({
      nats: async () => true,
      database: async () => database,
      stream: () => Promise.reject(new Error('no stream')),
    });
    const down = await fetch(`${url}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({
      status: 'not_ready',
      checks: { nats: true, database: false, stream: false },
      failing: ['database', 'stream'],
    });
    database = true;
    const partly = (await (await fetch(`${url}/readyz`)).json()) as { failing: string[] };
    expect(partly.failing).toEqual(['stream']);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('serves /metrics in the Prometheus text format, behind the token when one is set', async () => {
    const open = await start({});
    const res = await fetch(`${open}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await res.text()).toContain('vmcp_up 1');
    server?.close();

    const guarded = await start({}, 'metrics-token-0123456789');
    expect((await fetch(`${guarded}/metrics`)).status).toBe(401);
    expect((await fetch(`${guarded}/metrics`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(`${guarded}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } })).status).toBe(200);
  });
});
