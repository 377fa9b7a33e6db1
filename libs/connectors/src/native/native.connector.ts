import { CredentialRefusedError } from '../http/provider-errors.js';
import { isVmcpError, VmcpError, type CallToolResult, type ToolDefinition } from '@vmcp/contracts';
import { buildAuthHeaders, credentialStrings } from '../auth-headers.js';
import type { CacheScope, CallToolOptions, Connector, ConnectorContext, ConnectorDeps, CredentialRequest, ResolvedCredential } from '../connector.js';
import { DEFAULT_MAX_RESPONSE_BYTES, ProviderHttpClient, type RequestCredential } from '../http/provider-http.js';
import type { RetryPolicy } from '../http/retry.js';
import { parseBaseUrl } from '../http/url.js';
import { Deadline, StoppedError } from '../shared/deadline.js';
import type { NativeConnectorDefinition } from './native-connector.definition.js';
import { failureOutcome, toToolResult } from './tool-outcome.js';

export interface NativeConnectorOptions {
  /** A cached credential unused this long is dropped (default 5 minutes). */
  readonly credentialIdleMs?: number;
  /** At most this many cached credentials; the oldest goes first (default 1000). */
  readonly maxCachedCredentials?: number;
  /** Overrides of every native connector's HTTP settings (tests shorten them). */
  readonly maxResponseBytes?: number;
  readonly retry?: Partial<RetryPolicy>;
}

/** A cached OAuth token is not used this close to its expiry. */
const TOKEN_EXPIRY_MARGIN_MS = 30_000;

/** One account's credential as the connector holds it between calls. */
interface HeldCredential {
  readonly tenantId: string;
  readonly connectionId: string;
  readonly accountId: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly secrets: readonly string[];
  /** The OAuth access token, to name it when the provider refuses it. */
  readonly token: string | undefined;
  readonly expiresAt: number | undefined;
  /** The account's API base from the vault, if the provider named one. */
  readonly baseUrl: string | undefined;
  lastUsed: number;
}

/**
 * Runs the tools of one native connector definition. Tool lists are static (no
 * credential needed); a call resolves the account's credential from the vault (kept in
 * memory per account like the mcp connector's pooled sessions, dropped on `forget`),
 * gives the tool a provider HTTP client bound to it and to the call's deadline, and maps
 * the outcome to an MCP CallToolResult or a VmcpError.
 */
export class NativeConnector implements Connector {
  readonly id: string;
  private readonly held = new Map<string, HeldCredential>();
  private readonly idleMs: number;
  private readonly maxHeld: number;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly definition: NativeConnectorDefinition,
    private readonly deps: ConnectorDeps,
    private readonly options: NativeConnectorOptions = {},
  ) {
    this.id = definition.id;
    this.idleMs = options.credentialIdleMs ?? 5 * 60_000;
    this.maxHeld = options.maxCachedCredentials ?? 1000;
  }

  /** Credentials held in memory right now (the executor's session gauge). */
  get sessions(): number {
    return this.held.size;
  }

  async listTools(): Promise<ToolDefinition[]> {
    return [...this.definition.info.tools];
  }

  async callTool(ctx: ConnectorContext, name: string, args: Record<string, unknown>, options: CallToolOptions): Promise<CallToolResult> {
    const tool = this.definition.tool(name);
    if (!tool) throw new VmcpError('TOOL_NOT_FOUND', `Tool "${name.slice(0, 128)}" not found`);
    const deadline = Deadline.after(options.timeoutMs, options.signal);
    const { connection } = ctx;
    const http = this.definition.http;
    const maxResponseBytes = this.options.maxResponseBytes ?? http.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const failure = { provider: http.provider, connectionName: connection.name, authType: connection.auth_type, tool, maxResponseBytes };
    try {
      // Only an OAuth account can bring its own API base (Salesforce's instance_url): for any
      // other, a connection without one fails before the vault is asked.
      if (connection.auth_type !== 'oauth2') this.baseUrl(ctx, undefined);
      const credential = await this.credential(ctx, deadline);
      const baseUrl = this.baseUrl(ctx, credential.accountBaseUrl());
      const client = new ProviderHttpClient({
        baseUrl,
        config: { ...http, maxResponseBytes, retry: { ...http.retry, ...this.options.retry } },
        credential,
        deadline,
        idempotentTool: tool.annotations.idempotentHint,
      });
      return toToolResult(tool, await deadline.race(tool.run(args as never, client, { connection })));
    } catch (err) {
      if (err instanceof CredentialRefusedError && ctx.accountId) {
        // Drop what is held and let policy mark the account EXPIRED, so tools/list stops offering it.
        this.forget({ accountId: ctx.accountId });
        this.deps.onCredentialRefused?.({ tenantId: ctx.tenantId, connectionId: connection.id, accountId: ctx.accountId });
      }
      return failureOutcome(err, failure);
    }
  }

  forget(scope: CacheScope): void {
    for (const [key, h] of this.held) {
      const match = 'accountId' in scope ? h.accountId === scope.accountId : 'connectionId' in scope ? h.connectionId === scope.connectionId : h.tenantId === scope.tenantId;
      if (match) this.held.delete(key);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.held.clear();
  }

  /** The connection's base URL, else the one the provider named for the account, else the connector's. */
  private baseUrl(ctx: ConnectorContext, accountBaseUrl: string | undefined): URL {
    const { connection } = ctx;
    const configured = this.definition.baseUrl;
    const raw = connection.settings.base_url ?? accountBaseUrl ?? (typeof configured === 'string' ? configured : configured(connection));
    if (!raw) throw new VmcpError('FAILED_PRECONDITION', `connection "${connection.name}" needs settings.base_url`);
    try {
      return parseBaseUrl(raw);
    } catch (err) {
      throw new VmcpError('FAILED_PRECONDITION', `connection "${connection.name}": ${(err as Error).message}`);
    }
  }

  /**
   * The call's credential: the held one if fresh, else the vault's. On a 401 it is asked
   * once for another: an OAuth token is refreshed (the vault is told which token was
   * refused); a held static credential is read again in case it was replaced.
   */
  private async credential(ctx: ConnectorContext, deadline: Deadline): Promise<RequestCredential & { accountBaseUrl(): string | undefined }> {
    const { connection } = ctx;
    if (connection.auth_type === 'none') return { headers: () => ({}), secrets: () => [], refused: async () => false, accountBaseUrl: () => undefined };
    if (!ctx.accountId || !ctx.grant) throw new VmcpError('ACCOUNT_NOT_ACTIVE', `connection "${connection.name}" needs a connected account`);
    const account: CredentialRequest = { tenantId: ctx.tenantId, accountId: ctx.accountId, grant: ctx.grant };
    const key = JSON.stringify([ctx.tenantId, connection.id, ctx.accountId, connection.auth_type, connection.settings.header_name ?? null]);
    const cached = this.fresh(key);
    const fromCache = cached !== undefined;
    let current: HeldCredential = cached ?? (await this.resolve(ctx, account, key, deadline));
    const seen = new Set(current.secrets);
    return {
      headers: () => current.headers,
      accountBaseUrl: () => current.baseUrl,
      secrets: () => [...seen],
      refused: async () => {
        if (this.held.get(key) === current) this.held.delete(key);
        const before = current;
        if (connection.auth_type === 'oauth2') {
          if (!before.token) return false;
          current = await this.resolve(ctx, { ...account, rejectedToken: before.token }, key, deadline);
        } else if (fromCache) {
          current = await this.resolve(ctx, account, key, deadline);
        } else {
          return false;
        }
        for (const s of current.secrets) seen.add(s);
        return JSON.stringify(current.headers) !== JSON.stringify(before.headers);
      },
    };
  }

  private fresh(key: string): HeldCredential | undefined {
    const h = this.held.get(key);
    if (!h) return undefined;
    const now = Date.now();
    if (now - h.lastUsed > this.idleMs || (h.expiresAt !== undefined && now >= h.expiresAt - TOKEN_EXPIRY_MARGIN_MS)) {
      this.held.delete(key);
      return undefined;
    }
    h.lastUsed = now;
    return h;
  }

  private async resolve(ctx: ConnectorContext, request: CredentialRequest, key: string, deadline: Deadline): Promise<HeldCredential> {
    const { connection } = ctx;
    let resolved: ResolvedCredential;
    try {
      resolved = await deadline.race(this.deps.resolveCredential(request));
    } catch (err) {
      // The vault's codes (NOT_FOUND, ACCOUNT_NOT_ACTIVE, UNAVAILABLE, …) reach the caller as they are.
      if (isVmcpError(err)) throw err;
      if (err instanceof StoppedError) throw err;
      throw new VmcpError('UNAVAILABLE', 'the credential could not be resolved');
    }
    if (resolved.auth_type !== connection.auth_type) {
      throw new VmcpError('FAILED_PRECONDITION', `the connected account's credential is for ${resolved.auth_type}, connection "${connection.name}" uses ${connection.auth_type}`);
    }
    let headers: Record<string, string>;
    try {
      headers = buildAuthHeaders(connection.auth_type, resolved.secret, connection.settings.header_name);
    } catch (err) {
      // The message names the problem (auth type, header name), never a value.
      throw new VmcpError('FAILED_PRECONDITION', `connection "${connection.name}": ${(err as Error).message}`);
    }
    const held: HeldCredential = {
      tenantId: ctx.tenantId,
      connectionId: connection.id,
      accountId: ctx.accountId,
      headers,
      secrets: credentialStrings(resolved.secret, headers),
      token: connection.auth_type === 'oauth2' && 'token' in resolved.secret ? resolved.secret.token : undefined,
      expiresAt: resolved.expires_at ? Date.parse(resolved.expires_at) : undefined,
      baseUrl: resolved.base_url,
      lastUsed: Date.now(),
    };
    this.hold(key, held);
    return held;
  }

  private hold(key: string, held: HeldCredential): void {
    this.held.delete(key);
    this.held.set(key, held);
    for (const oldest of this.held.keys()) {
      if (this.held.size <= this.maxHeld) break;
      this.held.delete(oldest);
    }
    // Idle credentials leave memory even when no call comes to notice.
    this.sweeper ??= setInterval(() => this.sweep(), Math.max(1000, Math.min(this.idleMs, 60_000))).unref();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, h] of this.held) if (now - h.lastUsed > this.idleMs) this.held.delete(key);
    if (this.held.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}
