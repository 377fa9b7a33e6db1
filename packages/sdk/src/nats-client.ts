import type { NatsConnection } from '@nats-io/nats-core';
import { DEFAULT_MAX_RETRIES, integerAtLeast, type VmcpTenantClient } from './client.js';
import { VmcpError } from './errors.js';
import { NatsTransport } from './nats-transport.js';
import { Configs } from './resources/configs.js';
import { ConnectedAccounts } from './resources/connected-accounts.js';
import { Events } from './resources/events.js';
import { ToolCallLogs } from './resources/tool-call-logs.js';
import { Tokens } from './resources/tokens.js';
import { Tools } from './resources/tools.js';

/** Above the edge's default tool-call deadline (60 s), so the caller sees how a call ended. */
const DEFAULT_TIMEOUT_MS = 70_000;

export interface VmcpNatsOptions {
  /**
   * Your open NATS connection (`connect()` of @nats-io/transport-node, v3). Its user must
   * be allowed to publish on `vmcp.api.v1.>` and to receive replies on its inbox prefix
   * (docs/bus-api.md). The client never closes it.
   */
  readonly nats: NatsConnection;
  /** The tenant API key; every call acts in its tenant. Sent in the `Vmcp-Api-Key` header, never put in an error. */
  readonly apiKey: string;
  /**
   * Limit per request, in milliseconds (default 70 000: longer than a tool call's default
   * deadline of 60 s, as a `tools.execute` given up on over NATS still runs; the edge answers
   * every other request within its own bus timeout). `events` long polls add their wait to it.
   */
  readonly timeoutMs?: number;
  /**
   * Retries after the first attempt (default 2), for the reads and `tokens.revoke` only,
   * after a timeout, no responders, or `RESOURCE_EXHAUSTED`, `UPSTREAM_ERROR`,
   * `UNAVAILABLE` or `DEADLINE_EXCEEDED`: the same calls and failures as over HTTP.
   */
  readonly maxRetries?: number;
}

/**
 * The tenant client over NATS: the methods of VmcpTenantClient, exactly as `Vmcp` has them,
 * plus the event feed (`events`). For services that already sit on the gateway's NATS and
 * would rather not go through the HTTP edge. Methods the bus API lacks are not on its type;
 * reached anyway (from JavaScript), they reject with a VmcpError saying so.
 */
export class VmcpNats implements VmcpTenantClient {
  readonly configs: Pick<Configs, 'mintToken' | 'connectedAccounts'>;
  readonly tokens: Pick<Tokens, 'revoke'>;
  readonly tools: Pick<Tools, 'scoped' | 'execute'>;
  readonly connectedAccounts: Pick<ConnectedAccounts, 'list' | 'iterate' | 'get' | 'authorizationLink'>;
  readonly toolCallLogs: Pick<ToolCallLogs, 'list' | 'iterate' | 'get'>;
  readonly events: Events;

  constructor(options: VmcpNatsOptions) {
    if (typeof options.nats?.request !== 'function') throw new VmcpError('nats must be an open NatsConnection (@nats-io/transport-node connect())');
    // A header value: visible ASCII only, so the key cannot end the header early.
    if (typeof options.apiKey !== 'string' || !/^[\x21-\x7e]+$/.test(options.apiKey)) {
      throw new VmcpError('apiKey must be a tenant API key (visible ASCII, no spaces)');
    }
    const transport = new NatsTransport({
      nats: options.nats,
      apiKey: options.apiKey,
      timeoutMs: integerAtLeast(1, 'timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      maxRetries: integerAtLeast(0, 'maxRetries', options.maxRetries ?? DEFAULT_MAX_RETRIES),
    });
    // The same resource classes as over HTTP, so signatures and replies cannot differ.
    this.configs = new Configs(transport);
    this.tokens = new Tokens(transport);
    this.tools = new Tools(transport);
    this.connectedAccounts = new ConnectedAccounts(transport);
    this.toolCallLogs = new ToolCallLogs(transport);
    this.events = new Events(transport);
  }
}
