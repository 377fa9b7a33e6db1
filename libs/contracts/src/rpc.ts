import type { z } from 'zod';

/**
 * A request/reply operation on the bus: its subject together with the schemas of
 * both directions. Subjects are wire-compatible identifiers: never rename one in place,
 * add a new version instead.
 */
export interface Rpc<Req extends z.ZodType = z.ZodType, Rep extends z.ZodType = z.ZodType> {
  readonly subject: string;
  readonly request: Req;
  readonly reply: Rep;
}

export type RpcRequest<R extends Rpc> = z.input<R['request']>;
export type RpcRequestParsed<R extends Rpc> = z.output<R['request']>;
export type RpcReply<R extends Rpc> = z.output<R['reply']>;

export function defineRpc<Req extends z.ZodType, Rep extends z.ZodType>(rpc: {
  subject: string;
  request: Req;
  reply: Rep;
}): Rpc<Req, Rep> {
  return Object.freeze({ ...rpc });
}

/** A fire-and-forget notification on the bus (core NATS publish, no reply). */
export interface BusEvent<P extends z.ZodType = z.ZodType> {
  readonly subject: string;
  readonly payload: P;
}

export function defineEvent<P extends z.ZodType>(event: { subject: string; payload: P }): BusEvent<P> {
  return Object.freeze({ ...event });
}
