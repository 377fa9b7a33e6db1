import type { NatsConnection } from '@nats-io/transport-node';

/** What this relies on in nats.js's protocol handler (nats-core 3.x): its outbound buffer and its flush. */
interface ProtocolHandler {
  outbound: { length(): number; size(): number; fill(data: Uint8Array, ...more: Uint8Array[]): void };
  pendingLimit: number;
  flushPending(): void;
  sendCommand(cmd: string | Uint8Array, ...payloads: Uint8Array[]): void;
}

const encoder = new TextEncoder();

function isProtocolHandler(value: unknown): value is ProtocolHandler {
  const p = value as Partial<ProtocolHandler> | undefined;
  return (
    typeof p?.sendCommand === 'function' &&
    typeof p.flushPending === 'function' &&
    typeof p.pendingLimit === 'number' &&
    typeof p.outbound?.length === 'function' &&
    typeof p.outbound.size === 'function' &&
    typeof p.outbound.fill === 'function'
  );
}

/**
 * Sends everything a busy connection is given during one turn of the event loop in one socket
 * write, after that turn's callbacks have run, where nats.js writes once per microtask
 * checkpoint: each HTTP request, reply and timer is a checkpoint of its own, so under load a
 * service made a write per message. On loopback a write carries the receiver's TCP work too;
 * batching them cut the CPU of a tools/call by about 15 % across the stack (README,
 * Performance). A connection is busy while consecutive turns write; on a quiet one (the turn
 * before wrote nothing) a turn's first message leaves at the next microtask checkpoint, as
 * nats.js sends it: held to the end of its turn, the executor's reply to a sequential call
 * waited about 0.17 ms for the SDK client's stream clean-up. Order is unchanged (one buffer),
 * `flush()` and a full buffer still write at once, and `drain()`/`close()` flush first, so
 * nothing given before them is left behind.
 *
 * nats.js has no option for this, so it replaces the protocol handler's `sendCommand` with the
 * same code, scheduling the write with setImmediate instead of queueMicrotask on a busy
 * connection. It returns false and changes nothing when the client's internals are not the
 * ones this was written against (a test fails then, so an upgrade does not lose it silently).
 */
export function coalesceWrites(nc: NatsConnection): boolean {
  const protocol = (nc as unknown as { protocol?: unknown }).protocol;
  if (!isProtocolHandler(protocol)) return false;
  /** A message was given in this turn of the event loop. */
  let writing = false;
  /** A message was given in the turn before. */
  let wrote = false;
  // Runs after each turn that wrote, and after the turn following it: a connection is busy
  // while consecutive turns write, idle again after a turn without.
  const endTurn = () => {
    wrote = writing;
    writing = false;
    if (wrote) setImmediate(endTurn);
  };
  protocol.sendCommand = function (this: ProtocolHandler, cmd, ...payloads) {
    const idle = this.outbound.length() === 0;
    this.outbound.fill(typeof cmd === 'string' ? encoder.encode(cmd) : cmd, ...payloads);
    if (!idle) {
      if (this.outbound.size() >= this.pendingLimit) this.flushPending();
      return;
    }
    const busy = writing || wrote;
    // A quiet connection's first message of a turn starts the turn bookkeeping.
    if (!busy) setImmediate(endTurn);
    writing = true;
    if (busy) setImmediate(() => this.flushPending());
    else queueMicrotask(() => this.flushPending());
  };
  return true;
}
