import type { Request as ExpressRequest, Response as ExpressResponse } from 'express';

/** Hop-by-hop and body-framing headers: they describe the Express exchange, not the web one. */
const DROPPED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade']);

/**
 * The web-standard Request the SDK's handlers take, for an Express request whose JSON
 * body was already parsed: the body travels separately as `parsedBody`, so none is
 * attached here. The signal aborts when the client goes away.
 */
export function toWebRequest(req: ExpressRequest, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || DROPPED.has(name)) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  // The URL is only a label for the SDK (the route is already matched); the Host header
  // is not trusted to build it.
  return new Request(new URL(req.originalUrl, 'http://vmcp-edge.invalid'), { method: req.method, headers, signal });
}

/** An AbortSignal that fires when the Express client disconnects before the answer is sent. */
export function abortOnClose(res: ExpressResponse): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** Writes a web Response (JSON or an SSE stream) to Express. */
export async function sendWebResponse(res: ExpressResponse, response: Response, extraHeaders: Record<string, string> = {}): Promise<void> {
  res.status(response.status);
  response.headers.forEach((value, name) => {
    if (!DROPPED.has(name)) res.setHeader(name, value);
  });
  for (const [name, value] of Object.entries(extraHeaders)) res.setHeader(name, value);
  if (!response.body) {
    res.end();
    return;
  }
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
    // A JSON answer: one write, with its length.
    res.end(Buffer.from(await response.arrayBuffer()));
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  res.on('close', () => void reader.cancel().catch(() => undefined));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
  } catch {
    // The client went away, or the stream failed: nothing more can be sent.
  } finally {
    res.end();
  }
}
