import { NatsContext, ServerNats } from '@nestjs/microservices';
import { firstValueFrom, isObservable } from 'rxjs';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { isVmcpError, type ErrorReply, type Rpc, type RpcReply, type RpcRequestParsed } from '@vmcp/contracts';
import { answerRpc, requestData, type Bus } from './bus.js';
import { InFlight } from './in-flight.js';

/** Marks a request whose body was not JSON, so the handler answers with a typed error. */

interface OutgoingPacket {
  id?: string;
  response?: unknown;
  err?: unknown;
  isDisposed?: boolean;
}

export interface VmcpNatsServerOptions {
  /**
   * On close, the longest wait for the requests in flight to reply (VmcpConfig.drainTimeoutMs).
   * Past it close() returns anyway: a request still running may get no reply, and its caller
   * then sees its own timeout.
   */
  readonly drainTimeoutMs: number;
}

/**
 * Nest's NATS transport on the service's own connection, with vmcp's wire format:
 * a request body is the JSON of the request schema, a reply is the JSON of the reply
 * schema or `{error: {code, message}}`. Malformed input still gets a reply.
 *
 * Closing drains instead of Nest's fixed grace period: the server leaves its queue groups
 * (NATS hands new requests to the other replicas), still answers what reached it before
 * that, then waits until every request in flight has replied, at most `drainTimeoutMs`.
 */
export class VmcpNatsServer extends ServerNats {
  private readonly inFlight = new InFlight();
  /** Ends a request's count once its reply is published (or it fails without one). */
  private readonly ends = new WeakMap<Msg, () => void>();
  private readonly queue: string;
  private readonly drainTimeoutMs: number;
  private responders: Subscription[] = [];

  constructor(
    private readonly bus: Bus,
    queue: string,
    options: VmcpNatsServerOptions,
  ) {
    super({
      queue,
      deserializer: {
        deserialize(msg: Msg, options?: { replyTo?: string }) {
          return { id: options?.replyTo, pattern: msg.subject, data: requestData(msg) };
        },
      },
      serializer: {
        serialize(packet: OutgoingPacket) {
          if (packet.err !== undefined || packet.response === undefined) {
            const error = isVmcpError(packet.err)
              ? packet.err.toBody()
              : { code: 'INTERNAL' as const, message: 'internal error' };
            return { data: JSON.stringify({ error } satisfies ErrorReply) };
          }
          return { data: JSON.stringify(packet.response) };
        },
      },
    });
    this.queue = queue;
    this.drainTimeoutMs = options.drainTimeoutMs;
  }

  // One connection per process: Nest's server answers on the same connection the
  // service's Bus uses for its own requests. The Bus's owner closes it, after the
  // application's shutdown hooks (which may still publish and acknowledge).
  override async createNatsClient() {
    return this.bus.connection as never;
  }

  /** Nest's own, keeping the subscriptions so that close() can drain them. */
  override bindEvents(client: NatsConnection): void {
    for (const [channel, handler] of this.messageHandlers) {
      const queue = (handler.extras?.['queue'] as string | undefined) ?? this.queue;
      const callback = this.getMessageHandler(channel).bind(this) as (err: Error | null, msg: Msg) => void;
      this.responders.push(client.subscribe(channel, { queue, callback }));
    }
  }

  /**
   * A handler's route is its subject, as registered. Nest's own first tries JSON.parse on the
   * subject of every message (for object patterns, which vmcp does not use), and the failed
   * parse's SyntaxError cost about 2 % of the executor's CPU per tools/call.
   */
  override getRouteFromPattern(pattern: string): string {
    return pattern;
  }

  override handleMessage(channel: string, msg: Msg): Promise<unknown> {
    // Counted before anything asynchronous, so a request that arrives while close() drains
    // the subscriptions is waited for too.
    const end = this.inFlight.begin();
    // A request ends when its reply leaves; a message without a reply subject when it is handled.
    if (msg.reply) this.ends.set(msg, end);
    const handler = msg.reply ? this.getHandlerByPattern(channel) : null;
    const handled = handler ? this.answer(handler, msg) : super.handleMessage(channel, msg);
    return handled.then(
      (value: unknown) => {
        if (!msg.reply) end();
        return value;
      },
      (err: unknown) => {
        end();
        throw err;
      },
    );
  }

  /**
   * A request with a handler: Nest's own path, without its stream plumbing. Nest turns every
   * answer into an RxJS stream, subscribes to it and replies on the next tick, for handlers
   * that answer with several values; a vmcp handler answers once (serveRpc), and that
   * plumbing was about 5 % of the executor's CPU per tools/call and 0.1 ms of each bus hop.
   * The handler is still Nest's (guards, pipes, interceptors and exception filters around the
   * controller method), an Observable answer still replies with its first value (the one a
   * NATS requester takes), and the processing hooks still run around it.
   */
  private answer(handler: NonNullable<ReturnType<ServerNats['getHandlerByPattern']>>, msg: Msg): Promise<unknown> {
    const ctx = new NatsContext([msg.subject, msg.headers]);
    const publish = this.getPublisher(msg, msg.reply as string, ctx);
    const run = async () => {
      let packet: OutgoingPacket;
      try {
        const answer: unknown = await handler(requestData(msg), ctx);
        packet = { response: isObservable(answer) ? await firstValueFrom(answer) : answer, isDisposed: true };
      } catch (err) {
        packet = { err, isDisposed: true };
      }
      try {
        publish(packet);
      } finally {
        this.onProcessingEndHook?.(this.transportId, ctx);
      }
    };
    // As Nest's own: what the start hook returns (by default the handling itself).
    return Promise.resolve(this.onProcessingStartHook(this.transportId, ctx, run) as unknown);
  }

  override getPublisher(msg: Msg, id: string, ctx: NatsContext): (response: OutgoingPacket) => unknown {
    const publish = super.getPublisher(msg, id, ctx);
    return (response) => {
      try {
        return publish(response);
      } finally {
        // The caller takes the first reply; anything after it is not waited for.
        this.ends.get(msg)?.();
      }
    };
  }

  override async close(): Promise<void> {
    const responders = this.responders;
    this.responders = [];
    // Unsubscribe and flush: what the server routed here before it saw the unsubscribe is
    // still delivered (and counted), everything after goes to the other members of the group.
    await Promise.allSettled(responders.map((s) => s.drain()));
    if (!(await this.inFlight.idle(this.drainTimeoutMs))) {
      this.logger.warn(`closing with ${this.inFlight.size} request(s) still in flight after ${this.drainTimeoutMs} ms`);
    }
    this.statusEventEmitter.removeAllListeners();
  }
}

/**
 * Runs one request handler: validates the request against the contract, continues the
 * caller's trace, validates the reply, and turns any failure into a typed error reply.
 */
export function serveRpc<R extends Rpc>(
  rpc: R,
  data: unknown,
  ctx: NatsContext,
  handle: (request: RpcRequestParsed<R>) => Promise<RpcReply<R>> | RpcReply<R>,
): Promise<RpcReply<R> | ErrorReply> {
  return answerRpc(rpc, data, ctx.getHeaders(), handle);
}
