import { RequestOne } from '@nats-io/nats-core/internal';

/** What this relies on in nats.js's one-reply request (nats-core 3.x). */
interface Request {
  timer?: { cancel(): void };
  mux: { cancel(request: Request): void };
  deferred: { reject(err?: unknown): void };
  resolver(err: Error | null, msg: unknown): void;
  cancel(err?: Error): void;
  [SETTLED]?: true;
}

const SETTLED = Symbol('vmcp.settled');
let applied: boolean | undefined;

/** The source of the `cancel` this replaces, as nats-core 3.4 has it: any other is left alone. */
function isKnownCancel(cancel: unknown): boolean {
  if (typeof cancel !== 'function') return false;
  const source = cancel.toString().replace(/\s+/g, ' ');
  return (
    source.includes('this.timer.cancel()') &&
    source.includes('this.mux.cancel(this)') &&
    /this\.deferred\.reject\(err \? err : new errors_\d+\.RequestError\("cancelled"\)\)/.test(source)
  );
}

/**
 * Stops nats.js from building an Error nobody sees on every answered request. Its one-reply
 * request, once resolved, tidies up with `cancel()`, which rejects the (already settled)
 * promise with a new RequestError("cancelled"): a no-op whose stack capture cost the edge
 * about 40 µs of CPU per request, three requests per tools/call (the bus request to the
 * executor and the two audit records' JetStream publishes).
 *
 * After this, a request that has had its answer (or its error) is tidied up the same way
 * (timer stopped, removed from the connection's table) without the dead rejection; every
 * other cancellation (a failed publish, a timeout, a closed connection) runs nats.js's own
 * code, unchanged. Applies to the process's nats.js once. nats.js has no option for it, so
 * it returns false and changes nothing when `RequestOne` is not the one this was written
 * against (a test fails then, so an upgrade does not lose it silently).
 */
export function skipSettledRequestErrors(): boolean {
  if (applied !== undefined) return applied;
  const proto = (RequestOne as unknown as { prototype: Request } | undefined)?.prototype;
  if (!proto || typeof proto.resolver !== 'function' || !isKnownCancel(proto.cancel)) return (applied = false);
  const resolver = proto.resolver;
  const cancel = proto.cancel;
  proto.resolver = function (this: Request, err, msg) {
    // Before nats.js's resolver: it settles the promise, then calls cancel().
    this[SETTLED] = true;
    resolver.call(this, err, msg);
  };
  proto.cancel = function (this: Request, err) {
    if (err || !this[SETTLED]) return cancel.call(this, err);
    this.timer?.cancel();
    this.mux.cancel(this);
  };
  return (applied = true);
}
