import { ServerNats, type NatsContext } from '@nestjs/microservices';
import type { Msg } from '@nats-io/transport-node';
import { context, propagation, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { isVmcpError, VmcpError, type ErrorReply, type Rpc, type RpcReply, type RpcRequestParsed } from '@vmcp/contracts';
import { metrics, secondsSince, tracer } from '@vmcp/telemetry';
import { describeZodError, natsHeaderGetter, type Bus } from './bus.js';

/** Marks a request whose body was not JSON, so the handler answers with a typed error. */
const MALFORMED = Symbol('malformed');

interface OutgoingPacket {
  id?: string;
  response?: unknown;
  err?: unknown;
  isDisposed?: boolean;
}

/**
 * Nest's NATS transport on the service's own connection, with vmcp's wire format:
 * a request body is the JSON of the request schema, a reply is the JSON of the reply
 * schema or `{error: {code, message}}`. Malformed input still gets a reply.
 */
export class VmcpNatsServer extends ServerNats {
  constructor(
    private readonly bus: Bus,
    queue: string,
  ) {
    super({
      queue,
      gracefulShutdown: true,
      gracePeriod: 2000,
      deserializer: {
        deserialize(msg: Msg, options?: { replyTo?: string }) {
          let data: unknown;
          try {
            data = msg.data.length ? msg.json() : {};
          } catch {
            data = MALFORMED;
          }
          return { id: options?.replyTo, pattern: msg.subject, data };
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
  }

  // One connection per process: Nest's server answers on the same connection the
  // service's Bus uses for its own requests. Closing the server (after its grace
  // period for in-flight requests) closes it.
  override async createNatsClient() {
    return this.bus.connection as never;
  }
}

/**
 * Runs one request handler: validates the request against the contract, continues the
 * caller's trace, validates the reply, and turns any failure into a typed error reply.
 */
export async function serveRpc<R extends Rpc>(
  rpc: R,
  data: unknown,
  ctx: NatsContext,
  handle: (request: RpcRequestParsed<R>) => Promise<RpcReply<R>> | RpcReply<R>,
): Promise<RpcReply<R> | ErrorReply> {
  const parent = propagation.extract(context.active(), ctx.getHeaders(), natsHeaderGetter);
  return tracer().startActiveSpan(
    `${rpc.subject} process`,
    { kind: SpanKind.SERVER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': rpc.subject } },
    parent,
    async (span) => {
      const started = performance.now();
      let code = 'OK';
      try {
        if (data === MALFORMED) throw new VmcpError('INVALID_ARGUMENT', 'request body is not valid JSON');
        const request = rpc.request.safeParse(data);
        if (!request.success) throw new VmcpError('INVALID_ARGUMENT', describeZodError(request.error));
        const reply = await handle(request.data as RpcRequestParsed<R>);
        const checked = rpc.reply.safeParse(reply);
        if (!checked.success) {
          throw new VmcpError('INTERNAL', `reply does not match ${rpc.subject}: ${describeZodError(checked.error)}`);
        }
        return checked.data as RpcReply<R>;
      } catch (err) {
        const error = isVmcpError(err) ? err : new VmcpError('INTERNAL', 'internal error');
        code = error.code;
        if (!isVmcpError(err)) span.recordException(err instanceof Error ? err : new Error(String(err)));
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
        span.setAttribute('vmcp.error_code', error.code);
        return { error: error.toBody() };
      } finally {
        metrics().bus.handled(rpc.subject, code, secondsSince(started));
        span.end();
      }
    },
  );
}
