/**
 * The key of vmcp's own marker in a tools/call request's `_meta`: it names the call, so the
 * notifications on that request's response stream can be told apart from those of other
 * calls sharing the pooled upstream session (the SDK's client hands every notification to
 * one global handler, without the request it belongs to).
 */
export const CALL_MARKER_META_KEY = 'io.vmcp/call';

/** The params of a `notifications/message` the upstream sent on a call's own stream, as sent. */
export type StreamNotificationListener = (params: Record<string, unknown>) => void;

type Fetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * An SSE event bigger than this is not read (its bytes still pass): neither a log message
 * vmcp would pass on nor a request the bus could carry to the agent (NATS's 1 MiB).
 */
const MAX_EVENT_CHARS = 1024 * 1024;
/** Marks a request id two calls' streams both carried: it belongs to neither. */
const AMBIGUOUS = Symbol('ambiguous');

/**
 * Wraps the fetch of one upstream session's transport. The response of a POST that carries
 * a registered call marker, when it is an SSE stream, is read on the way through: each
 * `notifications/message` event on it goes to that call's listener, and each request the
 * server sends on it (sampling, elicitation) is noted as that call's. The bytes reach the
 * SDK unchanged; every other request and response is not touched.
 *
 * Only the call's own POST stream is read: messages the upstream sends on its standalone
 * (GET) stream, or replays on a resumed stream, belong to no call and are not attributed.
 */
export class RequestStreamTap {
  private readonly listeners = new Map<string, { readonly onLog: StreamNotificationListener | undefined; readonly requests: Set<string> }>();
  /** The marker of the call on whose stream each pending server-to-client request came, by request id. */
  private readonly owners = new Map<string, string | typeof AMBIGUOUS>();

  constructor(private readonly inner: Fetch = fetch) {}

  /**
   * Reads the stream of the call marked `marker` until the returned function is called:
   * its log messages go to `onLog`, and the server-to-client requests on it are noted, so
   * `takeCallOf(id)` names the call each belongs to.
   */
  listen(marker: string, onLog?: StreamNotificationListener): () => void {
    const entry = { onLog, requests: new Set<string>() };
    this.listeners.set(marker, entry);
    return () => {
      if (this.listeners.get(marker) !== entry) return;
      this.listeners.delete(marker);
      for (const id of entry.requests) if (this.owners.get(id) === marker) this.owners.delete(id);
    };
  }

  /**
   * The marker of the call on whose stream the server-to-client request `id` came, while
   * that call is listened to; asked once (the request is then being answered). Undefined
   * for an id unknown, already taken, or seen on two calls' streams (an upstream that
   * reuses ids cannot have its requests put to the wrong agent).
   */
  takeCallOf(id: string | number): string | undefined {
    const key = requestKey(id);
    const owner = this.owners.get(key);
    if (typeof owner !== 'string') return undefined;
    this.owners.delete(key);
    return owner;
  }

  readonly fetch: Fetch = async (url, init) => {
    const res = await this.inner(url, init);
    // The usual case (no call asked for its log messages) costs one size check.
    if (this.listeners.size === 0 || init?.method !== 'POST' || typeof init.body !== 'string' || !init.body.includes(CALL_MARKER_META_KEY)) return res;
    const marker = markerOf(init.body);
    if (marker === undefined || !this.listeners.has(marker) || !res.body) return res;
    if (!(res.headers.get('content-type') ?? '').toLowerCase().includes('text/event-stream')) return res;
    const tapped = res.body.pipeThrough(sseTap((data) => this.dispatch(marker, data)));
    return new Response(tapped, { status: res.status, statusText: res.statusText, headers: res.headers });
  };

  private dispatch(marker: string, data: string): boolean {
    const entry = this.listeners.get(marker);
    if (!entry) return false;
    // Cheap test first: the result has no method.
    if (!data.includes('"method"')) return true;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return true;
    }
    if (!isRecord(message) || typeof message['method'] !== 'string') return true;
    const id = message['id'];
    if (typeof id === 'string' || typeof id === 'number') {
      // A request of the server's: noted before the SDK reads it (these bytes reach it after this).
      const key = requestKey(id);
      entry.requests.add(key);
      const owner = this.owners.get(key);
      this.owners.set(key, owner === undefined || owner === marker ? marker : AMBIGUOUS);
    } else if (message['method'] === 'notifications/message' && isRecord(message['params']) && entry.onLog) {
      try {
        entry.onLog(message['params']);
      } catch {
        // A listener's failure is its own; the stream goes on.
      }
    }
    return true;
  }
}

/** The marker of a single JSON-RPC request (one with an id) in a POST body, if any. */
export function markerOf(body: string): string | undefined {
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isRecord(message) || message['id'] === undefined || !isRecord(message['params'])) return undefined;
  const meta = message['params']['_meta'];
  const marker = isRecord(meta) ? meta[CALL_MARKER_META_KEY] : undefined;
  return typeof marker === 'string' ? marker : undefined;
}

/**
 * A pass-through transform that also parses the bytes as Server-Sent Events and calls
 * `onData` with each event's data (multi-line data joined by "\n", as the SSE spec says).
 * Chunks may split anywhere: inside a line, between "\r" and "\n", inside a UTF-8
 * character. When `onData` returns false the parsing stops; the bytes keep flowing.
 */
export function sseTap(onData: (data: string) => boolean): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let parsing = true;
  let buffer = '';
  let data: string[] = [];
  let size = 0;
  let oversized = false;
  // A "\r" ended the last chunk: a "\n" opening the next one belongs to the same line end.
  let pendingCr = false;

  const line = (text: string) => {
    if (text === '') {
      if (data.length > 0 && !oversized) parsing = onData(data.join('\n'));
      data = [];
      size = 0;
      oversized = false;
      return;
    }
    if (!text.startsWith('data:')) return; // event:, id:, retry: and comments do not matter here
    const value = text.charCodeAt(5) === 0x20 ? text.slice(6) : text.slice(5);
    size += value.length + 1;
    if (size > MAX_EVENT_CHARS) {
      oversized = true;
      data = [];
    } else if (!oversized) data.push(value);
  };

  const feed = (text: string) => {
    let start = 0;
    if (pendingCr && text.startsWith('\n')) start = 1;
    pendingCr = false;
    // What was carried over holds no line end: only the new text is scanned.
    const carried = buffer.length;
    const all = buffer + text.slice(start);
    buffer = '';
    let from = 0;
    for (let i = carried; i < all.length && parsing; i++) {
      const c = all.charCodeAt(i);
      if (c !== 0x0a && c !== 0x0d) continue;
      line(all.slice(from, i));
      if (c === 0x0d) {
        if (i + 1 === all.length) pendingCr = true;
        else if (all.charCodeAt(i + 1) === 0x0a) i++;
      }
      from = i + 1;
    }
    if (!parsing) return;
    buffer = all.slice(from);
    // A line that never ends is not kept whole either.
    if (buffer.length > MAX_EVENT_CHARS) {
      buffer = '';
      oversized = true;
    }
  };

  return new TransformStream({
    transform(chunk, controller) {
      // Parsed before it is passed on: what the tap notes is there when the reader sees the event.
      if (parsing) feed(decoder.decode(chunk, { stream: true }));
      controller.enqueue(chunk);
    },
    flush() {
      // An event is dispatched only at its blank line: a stream cut short drops its last one.
    },
  });
}

/** JSON-RPC ids 1 and "1" are different requests. */
function requestKey(id: string | number): string {
  return `${typeof id}:${id}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
