import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { readsSseDirectly, SDK_SSE_HANDLER_SHA256, sdkSseHandlerDigest, UpstreamTransport } from './upstream-transport.js';

// UpstreamTransport reads SSE without the SDK's web-stream pipeline. Each case below is run
// through the SDK's own handler and through it, on the same bytes cut into chunks in many
// ways (inside lines, between "\r" and "\n", inside UTF-8 characters), and what each reports
// (messages, errors, resumption tokens, reconnections, the server's retry), and in which order
// with the work each message queues, must be the same.

type Observed = Array<readonly [string, ...unknown[]]>;

interface Internals {
  start(): Promise<void>;
  onmessage?: (message: unknown) => void;
  onerror?: (error: Error) => void;
  _serverRetryMs?: number;
  _scheduleReconnection(options: Record<string, unknown>, attempt?: number): void;
  _handleSseStream(stream: ReadableStream<Uint8Array> | null, options: Record<string, unknown>, isReconnectable: boolean): void;
}

interface Case {
  readonly name: string;
  readonly text: string;
  readonly reconnectable?: boolean;
  readonly replayMessageId?: string | number;
  /** The stream fails after its bytes instead of ending. */
  readonly fails?: boolean;
  /** Bytes appended raw after the text (an incomplete UTF-8 sequence). */
  readonly tailBytes?: readonly number[];
}

const result = (id: number | string, text = 'ok') => JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }] } });
const progress = (n: number) => JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 7, progress: n, total: 3 } });

const CASES: Case[] = [
  { name: 'one response', text: `data: ${result(1)}\n\n` },
  {
    name: 'priming event, typed and untyped notifications, then the response',
    text: `id: ev-0\ndata:\n\nevent: message\nid: ev-1\ndata: ${progress(1)}\n\nid: ev-2\ndata: ${progress(2)}\n\nid: ev-3\ndata: ${result(2)}\n\n`,
  },
  { name: 'retry, comments and events of other types', text: `retry: 1500\n\n: keep-alive\n\nevent: ping\ndata: {}\n\nevent: message\ndata: ${result(3)}\n\n` },
  { name: 'data that is not JSON, and JSON that is not JSON-RPC, then a response', text: `data: {not json\n\ndata: {"hello":1}\n\ndata: ${result(4)}\n\n` },
  { name: 'multi-line data', text: `data: {"jsonrpc":"2.0",\ndata: "id":5,\ndata: "result":{}}\n\n` },
  { name: 'CRLF and CR line ends', text: `id: a\r\ndata: ${progress(1)}\r\n\r\ndata: ${result(6)}\r\rdata: ${progress(2)}\r\n\r\n` },
  { name: 'text outside ASCII, and a byte-order mark', text: `\ufeffdata: ${result(7, 'héllo wörld ✓ 🦊 日本')}\n\n` },
  { name: 'a POST stream cut after its priming event: resumed from the last id', text: `id: p-1\ndata:\n\nid: p-2\ndata: ${progress(1)}\n\ndata: ${result(8)}` },
  { name: 'a GET stream that ends: resumed', text: `data: ${progress(1)}\n\n`, reconnectable: true },
  { name: 'a GET stream that ends after an id', text: `id: g-9\ndata: ${progress(2)}\n\n`, reconnectable: true },
  { name: 'a replayed response takes the original request id', text: `id: r-1\ndata: ${result('server-side-id')}\n\n`, replayMessageId: 42 },
  { name: 'a stream that fails after its priming event', text: `id: f-1\ndata:\n\ndata: ${progress(1)}\n\n`, fails: true },
  { name: 'a stream that fails before anything', text: '', fails: true },
  { name: 'a stream that fails after its response', text: `id: f-2\ndata: ${result(9)}\n\n`, fails: true },
  { name: 'an incomplete UTF-8 character at the very end', text: `data: ${result(10)}\n\ndata: x`, tailBytes: [0xe2, 0x9c] },
  { name: 'an empty stream', text: '' },
];

/** Deterministic cut points (a small LCG), so a failure names the same chunks again. */
function chunkings(bytes: Uint8Array): Uint8Array[][] {
  const cut = (sizes: (i: number) => number) => {
    const out: Uint8Array[] = [];
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const n = Math.max(1, sizes(i));
      out.push(bytes.slice(at, at + n));
      at += n;
    }
    return out;
  };
  const seeded = (seed: number) => {
    let s = seed;
    return () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return 1 + (s % 17);
    };
  };
  return [[bytes], cut(() => 1), cut(() => 2), cut(() => 3), cut(() => 7), cut(seeded(1)), cut(seeded(2)), cut(seeded(3))];
}

function sourceOf(chunks: Uint8Array[], fails: boolean): { stream: ReadableStream<Uint8Array>; ended: Promise<void> } {
  let end!: () => void;
  const ended = new Promise<void>((r) => (end = r));
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[i++];
      if (chunk) return controller.enqueue(chunk);
      if (fails) controller.error(new Error('connection reset'));
      else controller.close();
      end();
    },
  });
  return { stream, ended };
}

async function observe(transport: StreamableHTTPClientTransport, c: Case, chunks: Uint8Array[]): Promise<Observed> {
  const t = transport as unknown as Internals;
  const seen: Observed = [];
  await t.start();
  t.onmessage = (message) => {
    seen.push(['message', JSON.stringify(message)]);
    // As the SDK's client handles a notification: in a microtask, which must run before the
    // next message is handled (a response drops its request's progress handler at once).
    void Promise.resolve().then(() => seen.push(['handled', JSON.stringify(message)]));
  };
  t.onerror = (error) => seen.push(['error', error.message]);
  t._scheduleReconnection = (options, attempt) => seen.push(['reconnect', { ...options, onresumptiontoken: typeof options['onresumptiontoken'] }, attempt]);
  const { stream, ended } = sourceOf(chunks, c.fails === true);
  const options = { onresumptiontoken: (token: string) => seen.push(['token', token]), ...(c.replayMessageId !== undefined ? { replayMessageId: c.replayMessageId } : {}) };
  t._handleSseStream(stream, options, c.reconnectable === true);
  await ended;
  // Everything after the last read is promise work: done before the next turns of the event loop.
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  seen.push(['retry', t._serverRetryMs]);
  return seen;
}

describe('UpstreamTransport', () => {
  it('takes effect on the SDK installed here (an SDK whose SSE handling changed fails this and keeps its own)', () => {
    expect(sdkSseHandlerDigest()).toBe(SDK_SSE_HANDLER_SHA256);
    expect(readsSseDirectly).toBe(true);
    expect((UpstreamTransport.prototype as unknown as Internals)._handleSseStream).not.toBe(
      (StreamableHTTPClientTransport.prototype as unknown as Internals)._handleSseStream,
    );
  });

  it('leaves the SDK transport itself as it was (only the executor’s upstream sessions read SSE this way)', () => {
    expect(Object.hasOwn(StreamableHTTPClientTransport.prototype, '_handleSseStream')).toBe(true);
    expect(Object.hasOwn(UpstreamTransport.prototype, '_handleSseStream')).toBe(true);
  });

  for (const c of CASES) {
    it(`reports what the SDK reports: ${c.name}`, async () => {
      const bytes = new Uint8Array([...new TextEncoder().encode(c.text), ...(c.tailBytes ?? [])]);
      const url = new URL('http://127.0.0.1:9/mcp');
      for (const chunks of chunkings(bytes)) {
        const sdk = await observe(new StreamableHTTPClientTransport(url), c, chunks);
        const ours = await observe(new UpstreamTransport(url), c, chunks);
        expect(ours, `cut into ${chunks.length} chunk(s)`).toEqual(sdk);
      }
      // The cases are not vacuous: each reports something beyond the retry value.
      const sdkWhole = await observe(new StreamableHTTPClientTransport(url), c, [bytes]);
      if (c.text !== '' || c.fails) expect(sdkWhole.length).toBeGreaterThan(1);
    });
  }

  it('does nothing without a stream, as the SDK', async () => {
    const t = new UpstreamTransport(new URL('http://127.0.0.1:9/mcp')) as unknown as Internals;
    const seen: unknown[] = [];
    t.onerror = (e) => seen.push(e);
    t._handleSseStream(null, {}, true);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([]);
  });
});
