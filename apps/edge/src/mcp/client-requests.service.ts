import { Injectable } from '@nestjs/common';
import { edge, executor, VmcpError, type ConfigClientRequests } from '@vmcp/contracts';
import type { ClientRequestAnswer } from '@vmcp/connectors';
import { Bus } from '@vmcp/messaging';
import { metrics } from '@vmcp/telemetry';
import { randomUUID } from 'node:crypto';
import { isObject } from './json-rpc.js';

/** The ids of vmcp's own requests to agents: the prefix, then a UUID that names the request on the bus. */
const ID_PREFIX = 'vmcp-';
const OWN_ID = /^vmcp-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
/** Bound of the agent's error message passed back upstream (the bus contract allows 1000). */
const MAX_REFUSAL_MESSAGE = 500;

/** A JSON-RPC message to the agent, as the transport sends it: a request, or the notice that vmcp stopped waiting for one. */
export type AgentMessage =
  | { readonly jsonrpc: '2.0'; readonly id: string; readonly method: executor.ClientRequestMethod; readonly params: Record<string, unknown> }
  | { readonly jsonrpc: '2.0'; readonly method: 'notifications/cancelled'; readonly params: { readonly requestId: string; readonly reason: string } };

/**
 * Server-to-client requests (an upstream's `sampling/createMessage` or `elicitation/create`
 * during a call) asked of a 2025-era session's agent, and the agent's answers. The request
 * goes out on the call's own stream, from the replica holding the call; the answer is a POST
 * of its own that any replica may take: that replica publishes it under the request's id,
 * and the asking replica takes it only from the session it asked.
 */
@Injectable()
export class ClientRequests {
  constructor(private readonly bus: Bus) {}

  /**
   * Sends the agent `method` through `send` and resolves with its answer (its result or its
   * JSON-RPC error). Rejects with CANCELLED when `signal` aborts first (the call ended, the
   * upstream stopped waiting, or the agent went away); the agent is then told
   * (`notifications/cancelled`) where its stream still reads.
   */
  ask(sessionKey: string, send: (message: AgentMessage) => Promise<void>, method: executor.ClientRequestMethod, params: Record<string, unknown>, signal: AbortSignal): Promise<ClientRequestAnswer> {
    if (signal.aborted) return Promise.reject(new VmcpError('CANCELLED', 'the call ended before the agent was asked'));
    const uuid = randomUUID();
    const id = `${ID_PREFIX}${uuid}`;
    let sent = false;
    return new Promise<ClientRequestAnswer>((resolve, reject) => {
      let settled = false;
      /** Ends the wait once, however it ends, and counts how. */
      const settle = (outcome: 'answered' | 'refused' | 'cancelled' | 'failed', finish: () => void) => {
        if (settled) return;
        settled = true;
        answers.unsubscribe();
        signal.removeEventListener('abort', onAbort);
        metrics().toolCalls.clientRequest(method, outcome);
        finish();
      };
      const answers = this.bus.subscribe(
        edge.clientAnswer,
        (answer) => {
          // Another session cannot answer for this one, even knowing the id.
          if (answer.key !== sessionKey) return;
          const { error, result } = answer;
          if (error) settle('refused', () => resolve({ refused: error }));
          else settle('answered', () => resolve({ result: result ?? {} }));
        },
        { token: uuid },
      );
      const onAbort = () =>
        settle('cancelled', () => {
          reject(new VmcpError('CANCELLED', `the call ended before the agent answered ${method}`));
          if (sent) void send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'the tool call no longer waits for this answer' } }).catch(() => undefined);
        });
      signal.addEventListener('abort', onAbort, { once: true });
      // The subscription is at the server before the agent can see the request.
      this.bus
        .flush()
        .then(() => {
          if (settled) return;
          sent = true;
          return send({ jsonrpc: '2.0', id, method, params });
        })
        .catch(() => settle('failed', () => reject(new VmcpError('UNAVAILABLE', `${method} could not be sent to the agent`))));
    });
  }

  /**
   * The agent's answers to vmcp's requests among the messages of a POST body, published for
   * the replica that asked (and at the server when this resolves). Answers to ids vmcp never
   * used are left out. Resolves whether the body held nothing but answers (the POST is then
   * done: 202). An answer bigger than the bus carries is a PAYLOAD_TOO_LARGE error (nothing
   * of the body is published then, unless an earlier answer of a batch already was).
   */
  async deliver(sessionKey: string, body: unknown): Promise<boolean> {
    let published = false;
    const messages = Array.isArray(body) ? body : [body];
    let onlyAnswers = messages.length > 0;
    for (const message of messages) {
      if (!isAnswer(message)) {
        onlyAnswers = false;
        continue;
      }
      const own = typeof message.id === 'string' ? OWN_ID.exec(message.id) : null;
      if (!own?.[1]) continue;
      const error = message.error;
      const answer = isObject(error)
        ? { key: sessionKey, error: { code: Number.isSafeInteger(error['code']) ? (error['code'] as number) : -32603, message: String(error['message'] ?? '').slice(0, MAX_REFUSAL_MESSAGE) } }
        : { key: sessionKey, result: message.result as Record<string, unknown> };
      // What the bus cannot carry is refused here, not lost on the way.
      const size = Buffer.byteLength(JSON.stringify(answer));
      const max = this.bus.maxPayloadBytes();
      if (size > max) throw new VmcpError('PAYLOAD_TOO_LARGE', `an answer of ${size} bytes is more than vmcp relays (${max})`);
      this.bus.publish(edge.clientAnswer, answer, { token: own[1] });
      published = true;
    }
    // Like any event a replica acts on: at the server before the agent hears 202.
    if (published) await this.bus.flush();
    return onlyAnswers;
  }
}

/**
 * What of a session's declared capabilities vmcp relays, reduced to the parts MCP defines
 * (see executor.RelayedCapabilities); undefined when it declared neither sampling nor
 * elicitation. An elicitation capability naming no mode is form mode (2025-06-18 clients).
 */
export function relayedCapabilities(declared: Record<string, unknown>): executor.RelayedCapabilities | undefined {
  const { sampling, elicitation } = declared;
  const relayed: executor.RelayedCapabilities = {};
  if (isObject(sampling)) {
    relayed.sampling = { ...(isObject(sampling['context']) ? { context: {} } : {}), ...(isObject(sampling['tools']) ? { tools: {} } : {}) };
  }
  if (isObject(elicitation)) {
    const { form, url } = elicitation;
    const formMode = isObject(form) || !isObject(url);
    relayed.elicitation = {
      ...(formMode ? { form: isObject(form) && form['applyDefaults'] === true ? { applyDefaults: true as const } : {} } : {}),
      ...(isObject(url) ? { url: {} } : {}),
    };
  }
  return relayed.sampling || relayed.elicitation ? relayed : undefined;
}

/**
 * What the agent declared it can answer, less what the call's config does not allow:
 * nothing when the decision carries no setting (a call by connection, or a policy replica
 * from before the option: closed, not open).
 */
export function permittedCapabilities(
  declared: executor.RelayedCapabilities,
  allowed: ConfigClientRequests | undefined,
): executor.RelayedCapabilities | undefined {
  if (!allowed) return undefined;
  const { sampling, elicitation } = declared;
  const permitted: executor.RelayedCapabilities = {
    ...(sampling && allowed.sampling ? { sampling } : {}),
    ...(elicitation && allowed.elicitation ? { elicitation } : {}),
  };
  return permitted.sampling || permitted.elicitation ? permitted : undefined;
}

/** Whether a relayed request is one these capabilities let the agent be asked. */
export function isPermitted(method: executor.ClientRequestMethod, capabilities: executor.RelayedCapabilities): boolean {
  return method === 'sampling/createMessage' ? capabilities.sampling !== undefined : capabilities.elicitation !== undefined;
}

/** A JSON-RPC response: an id, and an object result or an error; no method. */
function isAnswer(message: unknown): message is { id: unknown; result?: unknown; error?: unknown } {
  if (!isObject(message) || 'method' in message || !('id' in message)) return false;
  return isObject(message['result']) !== isObject(message['error']);
}
