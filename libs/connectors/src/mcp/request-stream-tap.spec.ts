import { executor, newId } from '@vmcp/contracts';
import { describe, expect, it } from 'vitest';
import { logOf } from './mcp-upstream-session.js';
import { CALL_MARKER_META_KEY, markerOf, RequestStreamTap, sseTap } from './request-stream-tap.js';

const encoder = new TextEncoder();

const log = (data: unknown, level = 'info') => JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level, data } });
const result = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'done' }] } });

/** Pushes `bytes` through the tap in the given chunks; returns what came out and the events seen. */
async function run(chunks: Uint8Array[]): Promise<{ out: Uint8Array; events: string[] }> {
  const events: string[] = [];
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
  const out = new Uint8Array(await new Response(source.pipeThrough(sseTap((d) => (events.push(d), true)))).arrayBuffer());
  return { out, events };
}

function splitEvery(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size));
  return chunks;
}

describe('sseTap', () => {
  // CRLF and CR line ends, a comment, an id, multi-line data, a multi-byte character.
  const stream =
    `event: message\r\nid: 1\r\ndata: ${log('héllo ✓ world')}\r\n\r\n` +
    `: keep-alive\n\n` +
    `data: first line\ndata:second line\n\n` +
    `data: ${log('cr only')}\r\r` +
    `data: ${result(7)}\n\n`;
  const bytes = encoder.encode(stream);
  const expected = [log('héllo ✓ world'), 'first line\nsecond line', log('cr only'), result(7)];

  it('passes the bytes through unchanged and finds every event, however the chunks split', async () => {
    for (const size of [1, 2, 3, 5, 7, 64, bytes.length]) {
      const { out, events } = await run(splitEvery(bytes, size));
      expect(out, `chunks of ${size}`).toEqual(bytes);
      expect(events, `chunks of ${size}`).toEqual(expected);
    }
  });

  it('stops parsing when told to, and keeps the bytes flowing', async () => {
    const events: string[] = [];
    const source = new Response(bytes).body!.pipeThrough(sseTap((d) => (events.push(d), false)));
    expect(new Uint8Array(await new Response(source).arrayBuffer())).toEqual(bytes);
    expect(events).toEqual([expected[0]]);
  });

  it('drops an event too large for the bus to carry, and parses the next one', async () => {
    const huge = `data: ${'x'.repeat(1024 * 1024 + 10)}\n\n`;
    const { events } = await run(splitEvery(encoder.encode(huge + `data: ${log('after')}\n\n`), 64 * 1024));
    expect(events).toEqual([log('after')]);
  });
});

/** A fake upstream: every marked POST is answered with an SSE stream holding that call's own log messages. */
function upstream(answer: (body: { id: number; params: { name: string } }) => Response) {
  const seen: Response[] = [];
  const inner = async (_url: string | URL, init?: RequestInit) => {
    const res = answer(JSON.parse(String(init?.body)) as { id: number; params: { name: string } });
    seen.push(res);
    return res;
  };
  return { inner, seen };
}

const sse = (text: string) => new Response(encoder.encode(text), { status: 200, headers: { 'content-type': 'text/event-stream' } });
const post = (id: number, name: string, marker?: string) => ({
  method: 'POST',
  body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {}, ...(marker ? { _meta: { [CALL_MARKER_META_KEY]: marker } } : {}) } }),
});

describe('RequestStreamTap', () => {
  it('gives each of several concurrent calls on one session only the log messages of its own stream', async () => {
    const { inner } = upstream(({ id, params }) => sse(`data: ${log(`${params.name} 1`)}\n\ndata: ${log(`${params.name} 2`, 'error')}\n\ndata: ${result(id)}\n\n`));
    const tap = new RequestStreamTap(inner);
    const got = new Map<string, unknown[]>();
    for (const m of ['a', 'b', 'c']) tap.listen(m, (p) => got.set(m, [...(got.get(m) ?? []), p]));
    const responses = await Promise.all([tap.fetch('http://u/mcp', post(1, 'one', 'a')), tap.fetch('http://u/mcp', post(2, 'two', 'b')), tap.fetch('http://u/mcp', post(3, 'three', 'c'))]);
    // The SDK reads every stream to its end, unchanged.
    const texts = await Promise.all(responses.map((r) => r.text()));
    expect(texts[1]).toBe(`data: ${log('two 1')}\n\ndata: ${log('two 2', 'error')}\n\ndata: ${result(2)}\n\n`);
    expect(responses[0]!.headers.get('content-type')).toBe('text/event-stream');
    expect(got.get('a')).toEqual([
      { level: 'info', data: 'one 1' },
      { level: 'error', data: 'one 2' },
    ]);
    expect(got.get('b')).toEqual([
      { level: 'info', data: 'two 1' },
      { level: 'error', data: 'two 2' },
    ]);
    expect(got.get('c')).toHaveLength(2);
  });

  it('does not touch a JSON answer, a request without a marker, or a marked one nobody listens for', async () => {
    const { inner, seen } = upstream(({ id }) =>
      id === 1 ? new Response(result(1), { headers: { 'content-type': 'application/json' } }) : sse(`data: ${log('x')}\n\ndata: ${result(id)}\n\n`),
    );
    const tap = new RequestStreamTap(inner);
    const heard: unknown[] = [];
    tap.listen('m', (p) => heard.push(p));
    expect(await tap.fetch('http://u/mcp', post(1, 'json', 'm'))).toBe(seen[0]);
    expect(await tap.fetch('http://u/mcp', post(2, 'unmarked'))).toBe(seen[1]);
    expect(await tap.fetch('http://u/mcp', post(3, 'other', 'someone-else'))).toBe(seen[2]);
    expect(heard).toEqual([]);
  });

  it("notes each server request by the call whose stream it came on, before the reader sees it, once, until that call stops listening", async () => {
    const request = (id: number | string, method: string) => JSON.stringify({ jsonrpc: '2.0', id, method, params: {} });
    const { inner } = upstream(({ id, params }) =>
      sse(
        params.name === 'one'
          ? `data: ${request(7, 'sampling/createMessage')}\n\ndata: ${request(8, 'elicitation/create')}\n\ndata: ${log('not a request')}\n\ndata: ${result(id)}\n\n`
          : `data: ${request('7', 'sampling/createMessage')}\n\ndata: ${result(id)}\n\n`,
      ),
    );
    const tap = new RequestStreamTap(inner);
    const stopA = tap.listen('a');
    tap.listen('b');
    const [one, two, unmarked] = await Promise.all([
      tap.fetch('http://u/mcp', post(1, 'one', 'a')),
      tap.fetch('http://u/mcp', post(2, 'two', 'b')),
      tap.fetch('http://u/mcp', post(3, 'three')),
    ]);
    // Noted by the time the reader gets the event's first byte.
    const reader = one.body!.getReader();
    await reader.read();
    expect(tap.takeCallOf(7)).toBe('a');
    // Taken once: the request is being answered.
    expect(tap.takeCallOf(7)).toBeUndefined();
    while (!(await reader.read()).done);
    await two.text();
    await unmarked.text();
    // The JSON-RPC ids 7 and "7" are different requests.
    expect(tap.takeCallOf('7')).toBe('b');
    expect(tap.takeCallOf(9)).toBeUndefined();
    stopA();
    expect(tap.takeCallOf(8)).toBeUndefined();
  });

  it("puts a request id two calls' streams both carried to neither, and one call ending leaves the other's requests", async () => {
    const request = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'sampling/createMessage', params: {} });
    const { inner } = upstream(({ id, params }) => sse(`data: ${request(params.name === 'one' ? 5 : id === 2 ? 5 : 6)}\n\ndata: ${request(id === 2 ? 6 : 0)}\n\ndata: ${result(id)}\n\n`));
    const tap = new RequestStreamTap(inner);
    const stopA = tap.listen('a');
    tap.listen('b');
    await (await tap.fetch('http://u/mcp', post(1, 'one', 'a'))).text();
    await (await tap.fetch('http://u/mcp', post(2, 'two', 'b'))).text();
    // Both streams carried id 5: refused for both.
    expect(tap.takeCallOf(5)).toBeUndefined();
    stopA();
    // b's own request 6 outlives a's ending.
    expect(tap.takeCallOf(6)).toBe('b');
  });

  it('notes a request far bigger than a log message (an image to sample), up to what the bus carries', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'image', data: 'A'.repeat(300_000), mimeType: 'image/png' } }] } });
    const tap = new RequestStreamTap(async () => sse(`data: ${big}\n\ndata: ${result(1)}\n\n`));
    tap.listen('m');
    await (await tap.fetch('http://u/mcp', post(1, 'x', 'm'))).text();
    expect(tap.takeCallOf(99)).toBe('m');
  });

  it('stops passing messages on once the call stopped listening', async () => {
    let push!: (text: string) => void;
    let end!: () => void;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        push = (t) => c.enqueue(encoder.encode(t));
        end = () => c.close();
      },
    });
    const tap = new RequestStreamTap(async () => new Response(body, { headers: { 'content-type': 'text/event-stream' } }));
    const heard: unknown[] = [];
    const stop = tap.listen('m', (p) => heard.push(p));
    const res = await tap.fetch('http://u/mcp', post(1, 'x', 'm'));
    const reader = res.body!.getReader();
    push(`data: ${log('before')}\n\n`);
    await reader.read();
    stop();
    push(`data: ${log('after')}\n\n`);
    end();
    while (!(await reader.read()).done);
    expect(heard).toEqual([{ level: 'info', data: 'before' }]);
  });

  it('reads the marker of a request only', () => {
    expect(markerOf(post(1, 'x', 'm').body)).toBe('m');
    expect(markerOf(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/x', params: { _meta: { [CALL_MARKER_META_KEY]: 'm' } } }))).toBeUndefined();
    expect(markerOf('not json')).toBeUndefined();
  });
});

describe('logOf', () => {
  const SECRET = 'sk-live-4f9a0c77e1';

  it('keeps level, logger and JSON data, with every credential string removed', () => {
    expect(logOf({ level: 'warning', logger: 'db', data: { msg: `auth ${SECRET} ok`, n: 3, nested: [true, null, `"${SECRET}"`] } }, [SECRET])).toEqual({
      level: 'warning',
      logger: 'db',
      data: { msg: 'auth [redacted] ok', n: 3, nested: [true, null, '"[redacted]"'] },
    });
    expect(logOf({ level: 'info', data: { [`key-${SECRET}`]: 1 } }, [SECRET])).toEqual({ level: 'info', data: { 'key-[redacted]': 1 } });
  });

  it('drops a message it cannot make safe or that is not a log message', () => {
    // A credential too short to redact reliably.
    expect(logOf({ level: 'info', data: 'anything' }, ['abc'])).toBeUndefined();
    expect(logOf({ level: 'loud', data: 'x' }, [])).toBeUndefined();
    expect(logOf({ level: 'info' }, [])).toBeUndefined();
    let deep: unknown = 'bottom';
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(logOf({ level: 'info', data: deep }, [])).toBeUndefined();
  });

  it('cuts data beyond the bound, as text', () => {
    const big = logOf({ level: 'info', data: { text: 'y'.repeat(20_000) } }, [SECRET])!;
    expect(typeof big.data).toBe('string');
    expect(JSON.stringify(big.data).length).toBeLessThanOrEqual(executor.MAX_LOG_DATA_BYTES + 2);
    expect(executor.callLog.payload.safeParse({ execution_id: newId('exe'), ...big }).success).toBe(true);
    const quoted = logOf({ level: 'info', data: '"'.repeat(20_000) }, [])!;
    expect(JSON.stringify(quoted.data).length).toBeLessThanOrEqual(executor.MAX_LOG_DATA_BYTES + 2);
  });
});

describe('logLevelPasses', () => {
  it('orders the levels as RFC 5424 does', () => {
    const order = executor.LoggingLevel.options;
    expect(order).toEqual(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency']);
    expect(executor.logLevelPasses('warning', 'warning')).toBe(true);
    expect(executor.logLevelPasses('error', 'warning')).toBe(true);
    expect(executor.logLevelPasses('notice', 'warning')).toBe(false);
    expect(executor.logLevelPasses('debug', 'info')).toBe(false);
    expect(executor.logLevelPasses('emergency', 'debug')).toBe(true);
  });
});
