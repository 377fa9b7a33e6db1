import { busApi, VmcpError, type ErrorReply, type Rpc, type RpcRequestParsed } from '@vmcp/contracts';
import { describeZodError } from '@vmcp/messaging';
import { jsonDepth, MAX_JSON_DEPTH } from '../http/body.js';
import { toVmcpError } from '../http/http-errors.filter.js';

/** One operation of the bus API: its contract and the tenant operation it runs. */
export interface BusApiOperation {
  readonly rpc: Rpc;
  readonly handle: (tenantId: string, request: unknown) => Promise<unknown>;
}

/** Binds a handler to its contract, typed by it. */
export function operation<R extends Rpc>(rpc: R, handle: (tenantId: string, request: RpcRequestParsed<R>) => Promise<unknown>): BusApiOperation {
  return { rpc, handle: (tenantId, request) => handle(tenantId, request as RpcRequestParsed<R>) };
}

/** What the responder read off one NATS message. */
export interface BusApiMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Every value of the Vmcp-Api-Key header (any case); empty when absent. */
  readonly apiKeys: readonly string[];
}

export interface BusApiOutcome {
  /** The reply body: the REST reply, or `{error: {code, message}}`. */
  readonly body: unknown;
  /** `OK` or the error code, for the metric and the span. */
  readonly code: string;
  /** What failed, when it was not a VmcpError (logged by the responder, never sent). */
  readonly unexpected?: unknown;
}

/** A header value as REST takes a bearer key: printable ASCII, no spaces, bounded. */
const KEY_FORMAT = /^[\x21-\x7e]{1,4096}$/;
/** Subjects echoed in an error are cut to this length (the caller chose them). */
const MAX_ECHOED_SUBJECT = 200;
const decoder = new TextDecoder();

/**
 * The bus API's request handling apart from NATS: payload limit, JSON, the operation, the
 * tenant API key, the request schema, the tenant operation, the reply schema. It never
 * rejects: every failure is an error reply with the code REST would have answered.
 */
export class BusApiDispatcher {
  private readonly operations = new Map<string, BusApiOperation>();

  constructor(
    operations: readonly BusApiOperation[],
    /** The tenant of a tenant API key (REST's resolution: UNAUTHENTICATED, FORBIDDEN for the admin key). */
    private readonly tenantOfKey: (key: string) => Promise<string>,
  ) {
    for (const op of operations) {
      if (this.operations.has(op.rpc.subject)) throw new Error(`bus API operation ${op.rpc.subject} is served twice`);
      this.operations.set(op.rpc.subject, op);
    }
    const missing = busApi.BUS_API_OPERATIONS.filter((rpc) => this.operations.get(rpc.subject)?.rpc !== rpc);
    if (missing.length) throw new Error(`bus API operations without a handler: ${missing.map((m) => m.subject).join(', ')}`);
  }

  /** The operation served on a subject, if any. */
  operation(subject: string): Rpc | undefined {
    return this.operations.get(subject)?.rpc;
  }

  async dispatch(msg: BusApiMessage): Promise<BusApiOutcome> {
    try {
      const op = this.operations.get(msg.subject);
      if (msg.data.length > busApi.BUS_API_MAX_PAYLOAD_BYTES) {
        throw new VmcpError('PAYLOAD_TOO_LARGE', `request payload is larger than ${busApi.BUS_API_MAX_PAYLOAD_BYTES} bytes`);
      }
      if (!op) throw new VmcpError('NOT_FOUND', `no bus API operation on subject ${msg.subject.slice(0, MAX_ECHOED_SUBJECT)}`);
      const body = parseJson(msg.data);
      const tenantId = await this.tenantOfKey(apiKeyOf(msg.apiKeys));
      const request = op.rpc.request.safeParse(body);
      if (!request.success) throw new VmcpError('INVALID_ARGUMENT', describeZodError(request.error));
      const reply = await op.handle(tenantId, request.data);
      const checked = op.rpc.reply.safeParse(reply);
      if (!checked.success) throw new VmcpError('INTERNAL', `reply does not match ${op.rpc.subject}: ${describeZodError(checked.error)}`);
      // The REST body unchanged (the check above only proves its shape).
      return { body: reply, code: 'OK' };
    } catch (err) {
      const error = toVmcpError(err);
      return { body: { error: error.toBody() } satisfies ErrorReply, code: error.code, ...(err instanceof VmcpError ? {} : { unexpected: err }) };
    }
  }
}

/**
 * The reply as it goes out: the outcome's JSON, or RESOURCE_EXHAUSTED when that is larger
 * than the server lets a message be (`maxPayload`: a tool's large result, a long list), so
 * the caller gets an error instead of silence. An execute_tool reply names its execution id:
 * the call did run, and its audit entry is there.
 */
export function replyPayload(outcome: BusApiOutcome, maxPayload: number): { data: string; code: string } {
  const data = JSON.stringify(outcome.body);
  const size = Buffer.byteLength(data);
  if (size <= maxPayload) return { data, code: outcome.code };
  const executionId = (outcome.body as { execution_id?: unknown }).execution_id;
  const ran = typeof executionId === 'string' ? ` (the call ran: execution_id ${executionId})` : '';
  const error = new VmcpError('RESOURCE_EXHAUSTED', `the reply of ${size} bytes is larger than the bus allows (${maxPayload} bytes)${ran}; use the REST API for it`);
  return { data: JSON.stringify({ error: error.toBody() } satisfies ErrorReply), code: error.code };
}

function parseJson(data: Uint8Array): unknown {
  // An empty payload is an empty request, as for the services' own subjects.
  if (data.length === 0) return {};
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(data));
  } catch {
    throw new VmcpError('INVALID_ARGUMENT', 'request payload is not valid JSON');
  }
  // DESIGN invariant 8, as REST's depth guard.
  if (jsonDepth(body) > MAX_JSON_DEPTH) throw new VmcpError('INVALID_ARGUMENT', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  return body;
}

function apiKeyOf(values: readonly string[]): string {
  if (values.length === 0) throw new VmcpError('UNAUTHENTICATED', `missing ${busApi.API_KEY_HEADER} header`);
  const key = values.length === 1 ? (values[0] ?? '').trim() : '';
  if (!KEY_FORMAT.test(key)) throw new VmcpError('UNAUTHENTICATED', `malformed ${busApi.API_KEY_HEADER} header`);
  return key;
}
