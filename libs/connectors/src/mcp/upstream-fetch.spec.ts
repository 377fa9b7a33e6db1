import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyFailure } from './upstream-errors.js';
import { upstreamFetch } from './upstream-fetch.js';

// upstreamFetch against a real HTTP server: what the MCP SDK's client reads of a fetch
// Response (status, headers, a streamed body), redirects on the same origin only, and
// failures shaped as fetch's, so the connector classifies them as before.

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('upstreamFetch', () => {
  const fetch = upstreamFetch();
  const seen: Seen[] = [];
  let release: () => void = () => undefined;
  let main: { server: Server; base: string };
  let other: { server: Server; base: string };

  beforeAll(async () => {
    other = await listen((req, res) => res.writeHead(200).end(`other origin saw ${req.headers['x-api-key'] ?? 'no key'}`));
    main = await listen((req, res, body) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const path = req.url ?? '';
      if (path === '/json') res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'abc', 'set-cookie': ['a=1', 'b=2'] }).end(JSON.stringify({ echo: body }));
      else if (path === '/accepted') res.writeHead(202).end();
      else if (path === '/empty') res.writeHead(204).end();
      else if (path === '/sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: one\n\n');
        // The second event waits for the test: the first must arrive on its own.
        release = () => res.end('data: two\n\n');
      } else if (path === '/307') res.writeHead(307, { location: '/json' }).end();
      else if (path === '/303') res.writeHead(303, { location: `${main.base}/json` }).end();
      else if (path === '/away') res.writeHead(307, { location: `${other.base}/steal` }).end();
      else if (path === '/loop') res.writeHead(302, { location: '/loop' }).end();
      else if (path === '/silent') {
        // Never answers: a request to it ends only by its signal.
      } else if (path === '/hang') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: started\n\n');
      } else if (path === '/chatty') {
        // A 401 with a body that keeps coming, as the SDK cancels it unread.
        res.writeHead(401, { 'content-type': 'application/json' });
        let n = 0;
        const tick = setInterval(() => {
          if (n++ > 20 || res.destroyed) {
            clearInterval(tick);
            res.end();
          } else res.write(Buffer.alloc(16 * 1024, 120));
        }, 1);
      } else res.writeHead(404).end('no');
    });
  });

  afterAll(async () => {
    for (const s of [main?.server, other?.server]) {
      s?.closeAllConnections();
      await new Promise((r) => s?.close(r));
    }
  });

  it('sends method, headers and body, and answers with status, every header and the body', async () => {
    const res = await fetch(`${main.base}/json`, { method: 'POST', headers: new Headers({ 'content-type': 'application/json', 'x-api-key': 'k-123' }), body: '{"a":1}' });
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.headers.get('mcp-session-id')).toBe('abc');
    expect(res.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(await res.json()).toEqual({ echo: '{"a":1}' });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k-123' }, body: '{"a":1}' });
  });

  it('gives a 204 a null body and a 202 an empty one', async () => {
    expect((await fetch(`${main.base}/empty`, { method: 'POST', body: '{}' })).body).toBeNull();
    const accepted = await fetch(`${main.base}/accepted`, { method: 'POST', body: '{}' });
    expect(accepted.status).toBe(202);
    expect(await accepted.text()).toBe('');
  });

  it('streams the body as it comes (an SSE answer)', async () => {
    const res = await fetch(`${main.base}/sse`, { headers: { accept: 'text/event-stream' } });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    expect((await reader.read()).value).toBe('data: one\n\n');
    release();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += r.value;
    expect(rest).toBe('data: two\n\n');
  });

  it('lets the reader cancel a body it does not want while the server is still sending, and the process goes on', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${main.base}/chatty`);
      await res.body!.cancel();
    }
    // What a crash would have stopped.
    expect((await fetch(`${main.base}/json`, { method: 'POST', body: 'still here' })).status).toBe(200);
  });

  it('follows redirects on the same origin, keeping a POST for 307 and turning 303 into a GET', async () => {
    const kept = await fetch(`${main.base}/307`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k-1' }, body: '{"b":2}' });
    expect(await kept.json()).toEqual({ echo: '{"b":2}' });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/json', headers: { 'x-api-key': 'k-1' } });
    const got = await fetch(`${main.base}/303`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"c":3}' });
    expect(await got.json()).toEqual({ echo: '' });
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/json' });
  });

  it('never carries the request (and its credential headers) to another origin, and stops after five redirects', async () => {
    const away = await fetch(`${main.base}/away`, { method: 'POST', headers: { 'x-api-key': 'secret-key' }, body: '{}' });
    expect(away.status).toBe(307);
    expect(away.headers.get('location')).toBe(`${other.base}/steal`);
    const before = seen.length;
    const loop = await fetch(`${main.base}/loop`);
    expect(loop.status).toBe(302);
    expect(seen.length - before).toBe(6);
  });

  it('fails as fetch does: TypeError "fetch failed" with the cause, so a refused connection is unreachable and nothing was sent', async () => {
    const closed = await listen(() => undefined);
    const base = closed.base;
    await new Promise((r) => closed.server.close(r));
    const err = await fetch(`${base}/json`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as TypeError).message).toBe('fetch failed');
    expect(classifyFailure(err)).toEqual({ kind: 'unreachable', sent: false });
  });

  it("rejects with the signal's reason when aborted before the answer, and ends the body when aborted during it", async () => {
    const early = new AbortController();
    early.abort();
    await expect(fetch(`${main.base}/json`, { signal: early.signal })).rejects.toMatchObject({ name: 'AbortError' });
    // A server that never answers, so the timeout is always first (on /json a fast answer could beat a 0 ms timer).
    await expect(fetch(`${main.base}/silent`, { signal: AbortSignal.timeout(20) })).rejects.toMatchObject({ name: 'TimeoutError' });
    const late = new AbortController();
    const res = await fetch(`${main.base}/hang`, { signal: late.signal });
    const reader = res.body!.getReader();
    await reader.read();
    late.abort();
    await expect(reader.read()).rejects.toBeDefined();
  });
});
