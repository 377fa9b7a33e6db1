import { startFakeProvider, type FakeProvider, type FakeRoute } from '@vmcp/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadline, StoppedError } from '../shared/deadline.js';
import { collectPages, linkHeaderPages, queryCursorPages } from './pagination.js';
import { CredentialRefusedError, ProviderAnswerError, ProviderError, ProviderUnreachableError, ResponseTooLargeError } from './provider-errors.js';
import { ProviderHttpClient, type ProviderHttpConfig, type RequestCredential } from './provider-http.js';

const TOKEN = 'tok_live_7f3a9c2e1b';

function staticCredential(token = TOKEN): RequestCredential & { refusals: number } {
  return {
    refusals: 0,
    headers: () => ({ Authorization: `Bearer ${token}` }),
    secrets: () => [token, `Bearer ${token}`],
    async refused() {
      this.refusals++;
      return false;
    },
  };
}

const routes: FakeRoute[] = [
  { method: 'GET', path: '/items', handle: () => ({ status: 200, body: { items: [1, 2] } }) },
  { method: 'POST', path: '/items', handle: (r) => ({ status: 201, body: { created: r.body } }) },
  { method: 'GET', path: '/pages', handle: (r) => pageOf(Number(r.query.page ?? 1)) },
  { method: 'GET', path: '/cursor', handle: (r) => ({ status: 200, body: r.query.cursor === 'c2' ? { items: ['c'], next_cursor: '' } : { items: ['a', 'b'], next_cursor: 'c2' } }) },
  { method: 'GET', path: '/moved', handle: () => ({ status: 301, headers: { location: '/items' } }) },
  { method: 'GET', path: '/slack', handle: () => ({ status: 200, body: { ok: false, error: 'channel_not_found' } }) },
];

let server: FakeProvider;
let base: string;
function pageOf(n: number) {
  const headers: Record<string, string> = n < 3 ? { link: `<${base}/pages?page=${n + 1}>; rel="next", <${base}/pages?page=3>; rel="last"` } : {};
  return { status: 200, headers, body: [`p${n}a`, `p${n}b`] };
}

function client(options: { config?: Partial<ProviderHttpConfig>; credential?: RequestCredential; timeoutMs?: number; signal?: AbortSignal; idempotentTool?: boolean; baseUrl?: string } = {}) {
  return new ProviderHttpClient({
    baseUrl: new URL(options.baseUrl ?? base),
    config: { provider: 'Test', headers: { 'User-Agent': 'vmcp-test', Accept: 'application/json' }, retry: { baseDelayMs: 10, maxDelayMs: 20 }, ...options.config },
    credential: options.credential ?? staticCredential(),
    deadline: Deadline.after(options.timeoutMs ?? 5000, options.signal),
    idempotentTool: options.idempotentTool ?? false,
    random: () => 0.5,
  });
}

beforeAll(async () => {
  server = await startFakeProvider({ routes });
  base = server.url;
});
afterAll(() => server.close());
beforeEach(() => server.reset());

describe('ProviderHttpClient', () => {
  it('sends the configured headers with the credential last, JSON in and out', async () => {
    const r = await client().post('/items', { title: 'x' }, { headers: { authorization: 'Bearer agent-token', 'X-Extra': '1' } });
    expect(r).toMatchObject({ status: 201, body: { created: { title: 'x' } } });
    const [req] = server.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/items', body: { title: 'x' } });
    expect(req!.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, 'user-agent': 'vmcp-test', accept: 'application/json', 'x-extra': '1', 'content-type': 'application/json' });
  });

  it('retries a GET after 503 with Retry-After in seconds, waiting as asked', async () => {
    server.override({ path: '/items' }, { status: 503, headers: { 'retry-after': '1' }, body: { message: 'busy' } });
    const started = Date.now();
    const r = await client().get('/items');
    expect(r.body).toEqual({ items: [1, 2] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(server.requests).toHaveLength(2);
  });

  it('retries a 429 whose Retry-After is an HTTP date', async () => {
    server.override({ path: '/items' }, () => ({ status: 429, headers: { 'retry-after': new Date(Date.now() + 300).toUTCString() } }));
    expect((await client().get('/items')).status).toBe(200);
    expect(server.requests).toHaveLength(2);
  });

  it('never repeats a POST, unless the tool is marked idempotent', async () => {
    server.override({ method: 'POST' }, { status: 503, body: { message: 'busy' } });
    await expect(client().post('/items', {})).rejects.toMatchObject({ status: 503 });
    expect(server.requests).toHaveLength(1);

    server.reset();
    server.override({ method: 'POST' }, { status: 429, headers: { 'retry-after': '0' } });
    await expect(client().post('/items', {})).rejects.toMatchObject({ status: 429, retryAfterMs: 0 });
    expect(server.requests).toHaveLength(1);

    server.reset();
    server.override({ method: 'POST' }, { status: 503 });
    expect((await client({ idempotentTool: true }).post('/items', {})).status).toBe(201);
    expect(server.requests).toHaveLength(2);
  });

  it('gives up at once when Retry-After is beyond the deadline', async () => {
    server.override({ path: '/items' }, { status: 429, headers: { 'retry-after': '20' }, body: { message: 'API rate limit exceeded' } });
    const started = Date.now();
    const err = await client({ timeoutMs: 2000 }).get('/items').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ status: 429, retryAfterMs: 20_000, providerMessage: 'API rate limit exceeded' });
    expect(Date.now() - started).toBeLessThan(500);
    expect(server.requests).toHaveLength(1);
  });

  it('backs off on 5xx up to the attempt limit', async () => {
    server.override({ path: '/items' }, { status: 502, body: '<html>bad gateway</html>' }, 5);
    const err = await client().get('/items').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    // An HTML page says nothing a model could use.
    expect(err).toMatchObject({ status: 502, providerMessage: undefined });
    expect(server.requests).toHaveLength(3);
  });

  it('retries a GET the network failed, then reports the provider unreachable', async () => {
    const port = Number(new URL(base).port);
    const closed = await startFakeProvider({ routes: [] });
    const deadUrl = closed.url;
    await closed.close();
    expect(deadUrl).not.toContain(String(port));
    await expect(client({ baseUrl: deadUrl }).get('/items')).rejects.toBeInstanceOf(ProviderUnreachableError);
  });

  it('stops at the deadline with the call, not later', async () => {
    server.override({ path: '/items' }, { status: 200, body: {}, delayMs: 3000 });
    const started = Date.now();
    const err = await client({ timeoutMs: 300 }).get('/items').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoppedError);
    expect((err as StoppedError).reason).toBe('deadline');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a per-request budget shorter than the deadline makes a timeout worth one more try', async () => {
    server.override({ path: '/items' }, { status: 200, body: {}, delayMs: 2000 });
    const r = await client({ config: { requestTimeoutMs: 200 } }).get('/items');
    expect(r.body).toEqual({ items: [1, 2] });
    expect(server.requests).toHaveLength(2);
  });

  it('is cancelled with the call', async () => {
    server.override({ path: '/items' }, { status: 200, body: {}, delayMs: 3000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const err = await client({ signal: controller.signal }).get('/items').catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'cancelled' });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('refuses an answer larger than the limit, declared or streamed', async () => {
    const big = { data: 'x'.repeat(200_000) };
    server.override({ path: '/items' }, { status: 200, body: big });
    await expect(client({ config: { maxResponseBytes: 100_000 } }).get('/items')).rejects.toBeInstanceOf(ResponseTooLargeError);
    server.override({ path: '/items' }, { status: 200, body: big, chunked: true });
    await expect(client({ config: { maxResponseBytes: 100_000 } }).get('/items')).rejects.toBeInstanceOf(ResponseTooLargeError);
    server.override({ path: '/items' }, { status: 200, body: big, chunked: true });
    expect((await client({ config: { maxResponseBytes: 300_000 } }).get<typeof big>('/items')).body.data).toHaveLength(200_000);
  });

  it('on 401 asks for a new credential once and retries with it', async () => {
    let token = 'old-token-aaaaaa';
    const credential: RequestCredential = {
      headers: () => ({ Authorization: `Bearer ${token}` }),
      secrets: () => [token],
      refused: vi.fn(async () => {
        token = 'new-token-bbbbbb';
        return true;
      }),
    };
    server.override({ path: '/items' }, { status: 401, body: { message: 'Bad credentials' } });
    expect((await client({ credential }).post('/items', { a: 1 })).status).toBe(201);
    expect(credential.refused).toHaveBeenCalledTimes(1);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer old-token-aaaaaa', 'Bearer new-token-bbbbbb']);

    server.reset();
    server.override({ path: '/items' }, { status: 401 }, 2);
    const twice = await client({ credential }).get('/items').catch((e: unknown) => e);
    expect(twice).toBeInstanceOf(CredentialRefusedError);
    expect(twice).toMatchObject({ refreshed: true });

    server.reset();
    server.override({ path: '/items' }, { status: 401 });
    const cred = staticCredential();
    await expect(client({ credential: cred }).get('/items')).rejects.toMatchObject({ name: 'CredentialRefusedError', refreshed: false });
    expect(cred.refusals).toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  it('passes the provider\'s message on without the credential, bounded', async () => {
    server.override({ path: '/items' }, { status: 404, body: { message: `no such thing for Bearer ${TOKEN} (token ${TOKEN})\n${'y'.repeat(2000)}` } });
    const err = (await client().get('/items').catch((e: unknown) => e)) as ProviderError;
    expect(err.status).toBe(404);
    expect(err.providerMessage).not.toContain(TOKEN);
    expect(err.providerMessage).toContain('[redacted]');
    expect(err.providerMessage!.length).toBeLessThanOrEqual(501);
  });

  it('follows a redirect within the API, and no other', async () => {
    expect((await client().get('/moved')).body).toEqual({ items: [1, 2] });
    const other = await startFakeProvider({ routes });
    try {
      server.reset();
      server.override({ path: '/items' }, { status: 302, headers: { location: `${other.url}/items` } });
      await expect(client().get('/items')).rejects.toBeInstanceOf(ProviderAnswerError);
      expect(other.requests).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it('reads a 2xx error the connector declares (Slack\'s ok:false)', async () => {
    const answerError = (body: unknown) => ((body as { ok?: boolean }).ok === false ? String((body as { error?: unknown }).error) : undefined);
    await expect(client({ config: { answerError } }).get('/slack')).rejects.toMatchObject({ status: 200, providerMessage: 'channel_not_found' });
  });

  it('reports a malformed JSON answer', async () => {
    server.override({ path: '/items' }, { status: 200, body: '{"half":', headers: { 'content-type': 'application/json' } });
    await expect(client().get('/items')).rejects.toMatchObject({ name: 'ProviderAnswerError', reason: 'malformed' });
  });
});

describe('pagination helpers', () => {
  it('collects Link-header pages up to a count, and says where to continue', async () => {
    const http = client();
    const all = await collectPages(http, { method: 'GET', path: '/pages' }, { items: (b) => b as string[], next: linkHeaderPages, maxItems: 10 });
    expect(all.items).toEqual(['p1a', 'p1b', 'p2a', 'p2b', 'p3a', 'p3b']);
    expect(all.next).toBeUndefined();
    const some = await collectPages(http, { method: 'GET', path: '/pages' }, { items: (b) => b as string[], next: linkHeaderPages, maxItems: 3 });
    expect(some.items).toEqual(['p1a', 'p1b', 'p2a']);
    expect(some.next).toMatchObject({ method: 'GET', path: `${base}/pages?page=3` });
  });

  it('collects cursor pages', async () => {
    const all = await collectPages(client(), { method: 'GET', path: '/cursor', query: { limit: 2 } }, {
      items: (b) => (b as { items: string[] }).items,
      next: queryCursorPages('cursor', (b) => (b as { next_cursor?: string }).next_cursor),
      maxItems: 10,
    });
    expect(all.items).toEqual(['a', 'b', 'c']);
    expect(server.requests.map((r) => r.query)).toEqual([{ limit: '2' }, { limit: '2', cursor: 'c2' }]);
  });
});
