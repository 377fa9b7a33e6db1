import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';

export interface StubRequest {
  readonly subject: string;
  /** The `Vmcp-Api-Key` header as it arrived. */
  readonly apiKey: string | undefined;
  readonly payload: Record<string, unknown>;
  /** Counts requests from 1, across subjects. */
  readonly n: number;
}

/** Leave the request unanswered (the caller times out). */
export const NO_REPLY = Symbol('no reply');

/** What the stub answers: a JSON reply (an `{error}` body included), NO_REPLY, or a promise of either. */
export type StubHandler = (req: StubRequest) => unknown;

export interface BusStub {
  readonly requests: StubRequest[];
  stop(): void;
}

/**
 * A responder on `vmcp.api.v1.>` standing in for the edge's bus API in the SDK's tests:
 * records each request (subject, key header, payload) and answers with the handler's value.
 */
export function startBusStub(nc: NatsConnection, handler: StubHandler): BusStub {
  const requests: StubRequest[] = [];
  const sub: Subscription = nc.subscribe('vmcp.api.v1.>', {
    callback: (err, msg: Msg) => {
      if (err) return;
      const req: StubRequest = { subject: msg.subject, apiKey: msg.headers?.get('Vmcp-Api-Key'), payload: msg.json(), n: requests.length + 1 };
      requests.push(req);
      void Promise.resolve(handler(req)).then((reply) => {
        if (reply !== NO_REPLY) msg.respond(JSON.stringify(reply));
      });
    },
  });
  return { requests, stop: () => sub.unsubscribe() };
}

/** An error reply of the bus API. */
export function errorReply(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}
