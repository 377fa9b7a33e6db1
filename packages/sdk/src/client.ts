import { VmcpError } from './errors.js';
import { Audit } from './resources/audit.js';
import { Configs } from './resources/configs.js';
import { ConnectedAccounts } from './resources/connected-accounts.js';
import { Connections } from './resources/connections.js';
import { Connectors } from './resources/connectors.js';
import { Health } from './resources/health.js';
import { KeyRotations } from './resources/key-rotations.js';
import { Tenants } from './resources/tenants.js';
import { ToolCallLogs } from './resources/tool-call-logs.js';
import { Tokens } from './resources/tokens.js';
import { Tools } from './resources/tools.js';
import { WebhookEndpoint } from './resources/webhook.js';
import { Transport } from './transport.js';
import { SDK_VERSION } from './version.js';

export interface VmcpOptions {
  /** The edge's public URL (VMCP_PUBLIC_URL), e.g. `http://localhost:8080`. */
  readonly baseUrl: string;
  /** A tenant API key, or the platform admin key for `tenants.*`. Sent as a bearer token, never put in an error. */
  readonly apiKey?: string;
  /** Limit per attempt, in milliseconds (default 30 000); for `toolCallLogs.export`, on each wait for the server. */
  readonly timeoutMs?: number;
  /**
   * Retries after the first attempt (default 2), for GET, PUT and DELETE only, after a
   * network error, a timeout, or a 429, 502, 503 or 504. `Retry-After` is honoured up to 30 s.
   */
  readonly maxRetries?: number;
  /** The fetch to use (default: the global one), e.g. for a proxy agent or a test double. */
  readonly fetch?: typeof fetch;
  /** Your product and version, sent before the SDK's own in the User-Agent header. */
  readonly userAgent?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RETRIES = 2;

/**
 * The tenant operations a backend runs day to day, offered over HTTP (`Vmcp`) and over
 * NATS (`VmcpNats`) with the same signatures and the same reply types: code written against
 * this interface runs over either. Everything else (setting up connections, configs,
 * tenants) is HTTP only.
 */
export interface VmcpTenantClient {
  readonly configs: Pick<Configs, 'mintToken' | 'connectedAccounts'>;
  readonly tokens: Pick<Tokens, 'revoke'>;
  readonly tools: Pick<Tools, 'scoped' | 'execute'>;
  readonly connectedAccounts: Pick<ConnectedAccounts, 'list' | 'iterate' | 'get' | 'authorizationLink'>;
  readonly toolCallLogs: Pick<ToolCallLogs, 'list' | 'iterate' | 'get'>;
}

/**
 * A client of one vmcp edge's management API. Each group of routes is a property:
 * `vmcp.connections.create(…)`, `vmcp.configs.mintToken(…)`, `vmcp.toolCallLogs.export(…)`.
 */
export class Vmcp implements VmcpTenantClient {
  readonly tenants: Tenants;
  readonly connectors: Connectors;
  readonly connections: Connections;
  readonly connectedAccounts: ConnectedAccounts;
  readonly configs: Configs;
  readonly tokens: Tokens;
  readonly tools: Tools;
  readonly toolCallLogs: ToolCallLogs;
  readonly audit: Audit;
  readonly webhook: WebhookEndpoint;
  readonly keyRotations: KeyRotations;
  readonly health: Health;

  constructor(options: VmcpOptions) {
    const http = new Transport({
      baseUrl: normalizeBaseUrl(options.baseUrl),
      apiKey: options.apiKey,
      timeoutMs: integerAtLeast(1, 'timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      maxRetries: integerAtLeast(0, 'maxRetries', options.maxRetries ?? DEFAULT_MAX_RETRIES),
      fetch: options.fetch ?? globalThis.fetch,
      userAgent: [options.userAgent, `vmcp-sdk-typescript/${SDK_VERSION}`].filter(Boolean).join(' '),
    });
    this.tenants = new Tenants(http);
    this.connectors = new Connectors(http);
    this.connections = new Connections(http);
    this.connectedAccounts = new ConnectedAccounts(http);
    this.configs = new Configs(http);
    this.tokens = new Tokens(http);
    this.tools = new Tools(http);
    this.toolCallLogs = new ToolCallLogs(http);
    this.audit = new Audit(http);
    this.webhook = new WebhookEndpoint(http);
    this.keyRotations = new KeyRotations(http);
    this.health = new Health(http);
  }
}

/** An http(s) URL without a trailing slash, so route paths append to it (a path prefix is kept). */
function normalizeBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new VmcpError('baseUrl must be an absolute http or https URL');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username || url.password) {
    throw new VmcpError('baseUrl must be an http or https URL without credentials, query or fragment');
  }
  return url.href.replace(/\/+$/, '');
}

export function integerAtLeast(min: number, name: string, value: number): number {
  if (!Number.isInteger(value) || value < min) throw new VmcpError(`${name} must be an integer of at least ${min}`);
  return value;
}
