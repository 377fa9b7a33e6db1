import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { reply, startFakeEdge, type FakeEdge, type FakeHandler } from '../test/fake-edge.js';
import { Vmcp, VmcpApiError, VmcpConnectionError, VmcpError, VmcpTimeoutError, type VmcpOptions } from './index.js';

const API_KEY = 'vmcp_sk_test_3f9d0c1e7a5b4c2d8e6f';
const CONNECTION = {
  id: 'conn_1',
  name: 'github',
  connector: 'github',
  auth_type: 'bearer_token',
  settings: {},
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
};

let edge: FakeEdge | undefined;
afterEach(async () => {
  await edge?.close();
  edge = undefined;
});

async function serve(handler: FakeHandler, options: Partial<VmcpOptions> = {}): Promise<{ vmcp: Vmcp; edge: FakeEdge }> {
  edge = await startFakeEdge(handler);
  return { vmcp: new Vmcp({ baseUrl: edge.url, apiKey: API_KEY, ...options }), edge };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

async function failure(promise: Promise<unknown>): Promise<VmcpError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VmcpError);
  return err as VmcpError;
}

describe('requests', () => {
  it('sends the key as a bearer token, JSON bodies with their type, and leaves undefined query values out', async () => {
    const { vmcp, edge } = await serve((req, res) => reply(res, req.method === 'POST' ? 201 : 200, { connection: CONNECTION, connections: [] }), {
      userAgent: 'acme-backend/2.1',
    });
    await vmcp.connections.create({ name: 'github', connector: 'github', auth_type: 'bearer_token' });
    await vmcp.connections.list({ page_size: 10, page_token: undefined });

    const [post, get] = edge.requests;
    expect(post).toMatchObject({ method: 'POST', url: '/api/v1/connections' });
    expect(post!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(post!.headers['content-type']).toBe('application/json');
    expect(post!.headers['user-agent']).toMatch(/^acme-backend\/2\.1 vmcp-sdk-typescript\/\d+\.\d+\.\d+$/);
    expect(JSON.parse(post!.body)).toEqual({ name: 'github', connector: 'github', auth_type: 'bearer_token' });
    expect(get).toMatchObject({ method: 'GET', url: '/api/v1/connections?page_size=10', body: '' });
    expect(get!.headers['content-type']).toBeUndefined();
  });

  it('URL-encodes path parameters so a value cannot reach another route', async () => {
    const { vmcp, edge } = await serve((_req, res) => reply(res, 200, { connection: CONNECTION }));
    await vmcp.connections.get('a b/../c?d#e%');
    await vmcp.tenants.revokeApiKey('ten_1/x', 'key_ü');
    expect(edge.requests.map((r) => r.url)).toEqual([
      '/api/v1/connections/a%20b%2F..%2Fc%3Fd%23e%25',
      '/api/v1/tenants/ten_1%2Fx/api_keys/key_%C3%BC',
    ]);
    // URL parsing resolves "." and ".." even when encoded: refused before anything is sent.
    for (const bad of ['..', '.', '']) {
      expect((await failure(vmcp.connections.get(bad))).message).toMatch(/name must be a non-empty string/);
    }
    expect(edge.requests).toHaveLength(2);
  });

  it('keeps a path prefix of the base URL', async () => {
    edge = await startFakeEdge((_req, res) => reply(res, 200, { status: 'ok' }));
    await new Vmcp({ baseUrl: `${edge.url}/vmcp/`, apiKey: API_KEY }).health.live();
    expect(edge.requests[0]!.url).toBe('/vmcp/healthz');
  });
});

describe('errors', () => {
  it('maps the API error body to VmcpApiError with its status and code', async () => {
    const { vmcp } = await serve((_req, res) => reply(res, 404, { error: { code: 'NOT_FOUND', message: 'connection "nope" not found' } }));
    const err = await failure(vmcp.connections.get('nope'));
    expect(err).toBeInstanceOf(VmcpApiError);
    expect(err).toMatchObject({ name: 'VmcpApiError', status: 404, code: 'NOT_FOUND' });
    expect(err.message).toBe('GET /api/v1/connections/nope: connection "nope" not found');
  });

  it('describes a reply that is not the API’s (a proxy page) by its status', async () => {
    const { vmcp } = await serve((_req, res) => res.writeHead(413, { 'content-type': 'text/html' }).end('<html>too large</html>'));
    const err = await failure(vmcp.connections.create({ name: 'x', connector: 'mcp', auth_type: 'none' }));
    expect(err).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'POST /api/v1/connections: HTTP 413 Payload Too Large' });
  });

  it('never puts the API key in an error, even when a server echoes it', async () => {
    const { vmcp } = await serve((_req, res) => reply(res, 401, { error: { code: 'UNAUTHENTICATED', message: `unknown key ${API_KEY}` } }));
    const port = await closedPort();
    const errors = [
      await failure(vmcp.connections.list()),
      await failure(new Vmcp({ baseUrl: `http://127.0.0.1:${port}`, apiKey: API_KEY, maxRetries: 0 }).connections.list()),
      await failure(vmcp.connections.get('..')),
    ];
    const silent = await startFakeEdge(() => undefined);
    errors.push(await failure(new Vmcp({ baseUrl: silent.url, apiKey: API_KEY, timeoutMs: 50, maxRetries: 0 }).connections.list()));
    await silent.close();

    expect(errors.map((e) => e.constructor)).toEqual([VmcpApiError, VmcpConnectionError, VmcpError, VmcpTimeoutError]);
    expect(errors[0]!.message).toContain('unknown key [redacted]');
    for (const err of errors) {
      for (const text of [err.message, String(err), err.stack ?? '', inspect(err, { depth: null }), JSON.stringify(err)]) {
        expect(text).not.toContain(API_KEY);
      }
    }
    expect(inspect(vmcp, { depth: null })).not.toContain(API_KEY);
  });
});

describe('retries', () => {
  it('retries a GET after a 503 and returns the answer that follows', async () => {
    const { vmcp, edge } = await serve((_req, res, n) =>
      n === 1 ? reply(res, 503, { error: { code: 'UNAVAILABLE', message: 'policy is not answering' } }) : reply(res, 200, { connection: CONNECTION }),
    );
    await expect(vmcp.connections.get('github')).resolves.toEqual({ connection: CONNECTION });
    expect(edge.requests).toHaveLength(2);
  });

  it('never retries a POST', async () => {
    const { vmcp, edge } = await serve((_req, res) => reply(res, 503, { error: { code: 'UNAVAILABLE', message: 'try later' } }), { maxRetries: 5 });
    const err = await failure(vmcp.tools.execute({ tool_name: 'echo', identifier: 'alice', config_id: 'cfg_1' }));
    expect(err).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
    expect(edge.requests).toHaveLength(1);
  });

  it('gives up after maxRetries and throws the last error', async () => {
    const { vmcp, edge } = await serve((_req, res) => res.writeHead(502).end(), { maxRetries: 2 });
    expect(await failure(vmcp.configs.delete('cfg_1'))).toMatchObject({ status: 502, code: 'UNAVAILABLE' });
    expect(edge.requests.map((r) => r.method)).toEqual(['DELETE', 'DELETE', 'DELETE']);
  });

  it('does not retry errors that would fail again', async () => {
    const { vmcp, edge } = await serve((_req, res) => reply(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } }));
    await failure(vmcp.connections.list());
    expect(edge.requests).toHaveLength(1);
  });

  it('waits as long as Retry-After asks', async () => {
    const { vmcp, edge } = await serve((_req, res, n) =>
      n === 1
        ? reply(res, 429, { error: { code: 'RESOURCE_EXHAUSTED', message: 'slow down' } }, { 'retry-after': '1' })
        : reply(res, 200, { settings: { retention_days: 30, updated_at: null } }),
    );
    const started = Date.now();
    await vmcp.audit.updateSettings({ retention_days: 30 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(edge.requests.map((r) => r.method)).toEqual(['PUT', 'PUT']);
  });

  it('fails at once when Retry-After asks for longer than it is worth waiting', async () => {
    const { vmcp, edge } = await serve((_req, res) => reply(res, 429, { error: { code: 'RESOURCE_EXHAUSTED', message: 'slow down' } }, { 'retry-after': '3600' }));
    const err = await failure(vmcp.connections.list());
    expect(err).toMatchObject({ status: 429, code: 'RESOURCE_EXHAUSTED', retryAfterMs: 3_600_000 });
    expect(edge.requests).toHaveLength(1);
  });
});

describe('timeouts and unreachable edges', () => {
  it('throws VmcpTimeoutError when no reply comes within timeoutMs, after retrying a GET', async () => {
    const { vmcp, edge } = await serve(() => undefined, { timeoutMs: 100, maxRetries: 1 });
    const err = await failure(vmcp.connections.list());
    expect(err).toBeInstanceOf(VmcpTimeoutError);
    expect(err.message).toBe('GET /api/v1/connections: no reply within 100 ms');
    expect(edge.requests).toHaveLength(2);
  });

  it('counts a body that stops halfway as a timeout', async () => {
    const { vmcp } = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).write('{"connections": ['), {
      timeoutMs: 100,
      maxRetries: 0,
    });
    expect(await failure(vmcp.connections.list())).toBeInstanceOf(VmcpTimeoutError);
  });

  it('throws VmcpConnectionError when nothing listens, with the cause attached', async () => {
    const port = await closedPort();
    const vmcp = new Vmcp({ baseUrl: `http://127.0.0.1:${port}`, apiKey: API_KEY, maxRetries: 1 });
    const err = await failure(vmcp.connections.list());
    expect(err).toBeInstanceOf(VmcpConnectionError);
    expect(err.message).toBe(`GET /api/v1/connections: could not reach http://127.0.0.1:${port}`);
    expect(err.cause).toBeInstanceOf(Error);
  });
});
