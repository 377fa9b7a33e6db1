import { createHash } from 'node:crypto';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { isJSONRPCResultResponse, JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

interface SseStreamOptions {
  readonly onresumptiontoken?: (token: string) => void;
  readonly replayMessageId?: string | number;
}

/** What the SDK's `_handleSseStream` (1.32.x) uses of its transport, kept as it is there. */
interface TransportInternals {
  _serverRetryMs?: number;
  _abortController?: AbortController;
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  _scheduleReconnection(options: { resumptionToken?: string; onresumptiontoken?: (token: string) => void; replayMessageId?: string | number }, attemptCount?: number): void;
  _handleSseStream(stream: ReadableStream<Uint8Array> | null, options: SseStreamOptions, isReconnectable: boolean): void;
}

/**
 * SHA-256 of the SDK's own `_handleSseStream` source that `readSseStream` reproduces
 * (@modelcontextprotocol/sdk 1.32.2). Any other source keeps the SDK's method.
 */
export const SDK_SSE_HANDLER_SHA256 = '62b85dc8f359b804a0cdafa265a94546cde7ac2af1c7fd3e59299a1437c90f50';

const sdkHandler = (StreamableHTTPClientTransport.prototype as unknown as Partial<TransportInternals>)._handleSseStream;

/** Whether the installed SDK's SSE handler is the one `readSseStream` was written against. */
export function sdkSseHandlerDigest(): string | undefined {
  return typeof sdkHandler === 'function' ? createHash('sha256').update(String(sdkHandler)).digest('hex') : undefined;
}

/**
 * The SDK's handling of an SSE response (a POST's answer or the standalone GET stream), the
 * same step for step, but read with one TextDecoder and eventsource-parser's parser called
 * directly instead of through two web TransformStreams (TextDecoderStream, then
 * EventSourceParserStream). In profiles of the executor that pipeline was the largest item
 * per tools/call: its chunk-by-chunk promise plumbing, and an error with a full stack Node
 * builds when the decoder stream closes (about 6 % of the executor's CPU on its own).
 *
 * Kept from the SDK: events are handled in order; an event's id is the resumption token; an
 * event without data is skipped; only `message` events (or untyped ones) are JSON-RPC; a
 * message that does not parse is reported to `onerror` and the stream goes on; a response
 * ends the need to resume; a stream that ends or breaks before its response resumes when it
 * can (a GET stream, or a POST stream that sent an event id); an unterminated last event is
 * dropped; the server's `retry` sets the reconnection delay. upstream-transport.spec runs the
 * same bytes, cut into chunks every way, through both and compares what each reports.
 */
function readSseStream(this: TransportInternals, stream: ReadableStream<Uint8Array> | null, options: SseStreamOptions, isReconnectable: boolean): void {
  if (!stream) return;
  const { onresumptiontoken, replayMessageId } = options;
  let lastEventId: string | undefined;
  // An event with an id (a priming event) makes a POST stream resumable.
  let hasPrimingEvent = false;
  // A response was received: the request is complete, nothing to resume.
  let receivedResponse = false;
  const handle = (event: EventSourceMessage) => {
    if (event.id) {
      lastEventId = event.id;
      hasPrimingEvent = true;
      onresumptiontoken?.(event.id);
    }
    if (!event.data) return;
    if (event.event && event.event !== 'message') return;
    try {
      const message = JSONRPCMessageSchema.parse(JSON.parse(event.data));
      if (isJSONRPCResultResponse(message)) {
        receivedResponse = true;
        if (replayMessageId !== undefined) message.id = replayMessageId;
      }
      this.onmessage?.(message);
    } catch (error) {
      this.onerror?.(error as Error);
    }
  };
  const resumeIfNeeded = () => {
    const canResume = isReconnectable || hasPrimingEvent;
    if (canResume && !receivedResponse && this._abortController && !this._abortController.signal.aborted) {
      this._scheduleReconnection({ resumptionToken: lastEventId, onresumptiontoken, replayMessageId }, 0);
    }
  };
  const read = async () => {
    try {
      const reader = stream.getReader();
      const decoder = new TextDecoder();
      const events: EventSourceMessage[] = [];
      const parser = createParser({
        onEvent: (event) => events.push(event),
        onRetry: (retryMs) => {
          this._serverRetryMs = retryMs;
        },
      });
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
        for (let event = events.shift(); event; event = events.shift()) {
          // Each event after an await, as the SDK reads them: what handling one queued as a
          // microtask (the SDK's client runs a notification's handler so, and drops a request's
          // progress handler the moment its response is handled) runs before the next.
          await undefined;
          handle(event);
        }
      }
      // (What an incomplete UTF-8 sequence at the very end would decode to can only complete a
      // line without its blank line, an event that is dropped either way.)
      resumeIfNeeded();
    } catch (error) {
      this.onerror?.(new Error(`SSE stream disconnected: ${String(error)}`));
      try {
        resumeIfNeeded();
      } catch (err) {
        this.onerror?.(new Error(`Failed to reconnect: ${err instanceof Error ? err.message : String(err)}`));
      }
    }
  };
  void read();
}

/**
 * The SDK's Streamable HTTP client transport, with `readSseStream` in place of the SDK's SSE
 * handling when the installed SDK's is the one it reproduces; otherwise exactly the SDK's.
 */
export class UpstreamTransport extends StreamableHTTPClientTransport {}

/** Whether UpstreamTransport reads SSE with `readSseStream` (false: the installed SDK differs). */
export const readsSseDirectly = sdkSseHandlerDigest() === SDK_SSE_HANDLER_SHA256;
if (readsSseDirectly) {
  Object.defineProperty(UpstreamTransport.prototype, '_handleSseStream', { value: readSseStream, writable: true, configurable: true });
}
