import { VmcpError } from './errors.js';

/**
 * The caller's idle timeout, armed only while waiting for the next chunk: time the caller
 * spends on a line (writing it to a slow sink) is not the server's silence.
 */
export interface ReadDeadline {
  arm(): void;
  disarm(): void;
}

/**
 * The JSON value of each line of an NDJSON body, as the bytes arrive: only the line being
 * received is held, never the whole body. Leaving the loop early cancels the body, which
 * closes the connection. (BufferSource is what TextDecoderStream takes; a fetch body's
 * chunks are one.)
 */
export async function* ndjsonValues(body: ReadableStream<BufferSource>, deadline: ReadDeadline): AsyncGenerator<unknown, void, undefined> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let partial = '';
  try {
    for (;;) {
      deadline.arm();
      const { done, value } = await reader.read();
      deadline.disarm();
      if (done) break;
      const lines = (partial + value).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) yield* parseLine(line);
    }
    yield* parseLine(partial);
  } finally {
    deadline.disarm();
    await reader.cancel().catch(() => undefined);
  }
}

function* parseLine(line: string): Generator<unknown, void, undefined> {
  if (line.trim() === '') return;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    // The line itself is not repeated: it could hold anything the server sent.
    throw new VmcpError('the export stream sent a line that is not JSON');
  }
  yield value;
}
