import { isVmcpError, VmcpError, type CallToolResult, type executor, type StaticAuth, type ToolDefinition } from '@vmcp/contracts';
import { buildAuthHeaders, credentialStrings } from '../auth-headers.js';
import type { CacheScope, CallToolOptions, Connector, ConnectorContext, ConnectorDeps, CredentialRequest, ListToolsOptions } from '../connector.js';
import { Deadline, StoppedError } from '../shared/deadline.js';
import { SessionPool, type Lease } from '../shared/session-pool.js';
import { McpUpstreamSession } from './mcp-upstream-session.js';
import { classifyFailure, sessionIsBroken, shouldRetry, toVmcpError, type UpstreamOperation } from './upstream-errors.js';

export interface McpConnectorOptions {
  /** An upstream session unused this long is closed (default 5 minutes). */
  readonly idleMs?: number;
  /** At most this many upstream sessions; the least recently used goes first (default 1000). */
  readonly maxSessions?: number;
  /** Budget of the upstream handshake (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Budget of a tool discovery when the caller gives none (default 10 s). */
  readonly listTimeoutMs?: number;
}

/** A session is replaced this long before its OAuth access token expires. */
const TOKEN_EXPIRY_MARGIN_MS = 30_000;

/** What a session was opened with, for OAuth: the token (to name it when refused) and its expiry. */
interface SessionCredential {
  readonly token: string;
  readonly expiresAt: number | undefined;
}

interface SessionTags {
  readonly tenantId: string;
  readonly connectionId: string;
  readonly accountId: string | null;
}

/**
 * The `mcp` connector: any upstream MCP server over Streamable HTTP at `settings.url`.
 * Each connected account gets one upstream session, opened on first use with that
 * account's credential (resolved from the vault) and shared by all its calls until it is
 * idle, pushed out by the size cap, or the account or connection changes.
 */
export class McpConnector implements Connector {
  readonly id = 'mcp';
  private readonly pool: SessionPool<McpUpstreamSession, SessionTags>;
  private readonly oauth = new WeakMap<McpUpstreamSession, SessionCredential>();
  private readonly connectTimeoutMs: number;
  private readonly listTimeoutMs: number;

  constructor(
    private readonly deps: ConnectorDeps,
    options: McpConnectorOptions = {},
  ) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.listTimeoutMs = options.listTimeoutMs ?? 10_000;
    this.pool = new SessionPool({
      idleMs: options.idleMs ?? 5 * 60_000,
      maxSize: options.maxSessions ?? 1000,
      close: (s) => s.close(),
    });
  }

  /** Upstream sessions currently pooled. */
  get sessions(): number {
    return this.pool.size;
  }

  listTools(ctx: ConnectorContext, options: ListToolsOptions = {}): Promise<ToolDefinition[]> {
    const deadline = Deadline.after(options.timeoutMs ?? this.listTimeoutMs, options.signal);
    return this.run(ctx, 'list', deadline, (s) => s.listTools(deadline));
  }

  callTool(ctx: ConnectorContext, name: string, args: Record<string, unknown>, options: CallToolOptions): Promise<CallToolResult> {
    const deadline = Deadline.after(options.timeoutMs, options.signal);
    const relayed = options.clientRequests;
    return this.run(ctx, 'call', deadline, (s) => s.callTool(name, args, deadline, options.onProgress, options.onLog, relayed), relayed?.capabilities);
  }

  forget(scope: CacheScope): void {
    if ('accountId' in scope) this.pool.retire((t) => t.accountId === scope.accountId);
    else if ('connectionId' in scope) this.pool.retire((t) => t.connectionId === scope.connectionId);
    else this.pool.retire((t) => t.tenantId === scope.tenantId);
  }

  close(): Promise<void> {
    return this.pool.closeAll();
  }

  /**
   * Runs one operation on the account's session. A session found broken is replaced, and
   * the operation retried once where that is safe (see shouldRetry).
   */
  private async run<T>(
    ctx: ConnectorContext,
    operation: UpstreamOperation,
    deadline: Deadline,
    op: (s: McpUpstreamSession) => Promise<T>,
    capabilities?: executor.RelayedCapabilities,
  ): Promise<T> {
    const key = sessionKey(ctx, capabilities);
    // An OAuth token the upstream refused: the next session asks the vault to refresh it.
    let rejectedToken: string | undefined;
    for (let attempt = 0; ; attempt++) {
      // The usual case, a pooled session, costs no timer and no promise.
      let lease: Lease<McpUpstreamSession> | undefined = this.pool.tryAcquire(key);
      if (lease && this.expiring(lease.session)) {
        lease.retire();
        lease.release();
        lease = undefined;
      }
      try {
        const rejected = rejectedToken;
        lease ??= await deadline.race(
          this.pool.acquire(key, { tenantId: ctx.tenantId, connectionId: ctx.connection.id, accountId: ctx.accountId }, () => this.open(ctx, capabilities, rejected)),
          (late) => late.release(),
        );
      } catch (err) {
        throw toVmcpError(classifyFailure(err), ctx.connection.name, []);
      }
      try {
        return await op(lease.session);
      } catch (err) {
        const failure = classifyFailure(err);
        if (sessionIsBroken(failure)) lease.retire();
        if (failure.kind === 'http' && failure.status === 401) rejectedToken = this.oauth.get(lease.session)?.token;
        if (attempt === 0 && shouldRetry(operation, failure)) continue;
        throw toVmcpError(failure, ctx.connection.name, lease.session.secrets);
      } finally {
        lease.release();
      }
    }
  }

  /** Whether a session's OAuth token is about to expire, so it must not take another call. */
  private expiring(session: McpUpstreamSession): boolean {
    const expiresAt = this.oauth.get(session)?.expiresAt;
    return expiresAt !== undefined && Date.now() >= expiresAt - TOKEN_EXPIRY_MARGIN_MS;
  }

  private async open(ctx: ConnectorContext, capabilities: executor.RelayedCapabilities | undefined, rejectedToken?: string): Promise<McpUpstreamSession> {
    const { connection } = ctx;
    const url = upstreamUrl(connection.settings.url, connection.name);
    let secret: StaticAuth | undefined;
    let expiresAt: string | undefined;
    if (connection.auth_type !== 'none') {
      if (!ctx.accountId || !ctx.grant) throw new VmcpError('ACCOUNT_NOT_ACTIVE', `connection "${connection.name}" needs a connected account`);
      const resolved = await this.resolve({ tenantId: ctx.tenantId, accountId: ctx.accountId, grant: ctx.grant, ...(rejectedToken ? { rejectedToken } : {}) });
      if (resolved.auth_type !== connection.auth_type) {
        throw new VmcpError('FAILED_PRECONDITION', `the connected account's credential is for ${resolved.auth_type}, connection "${connection.name}" uses ${connection.auth_type}`);
      }
      secret = resolved.secret;
      expiresAt = resolved.expires_at;
    }
    let headers: Record<string, string>;
    try {
      headers = buildAuthHeaders(connection.auth_type, secret, connection.settings.header_name);
    } catch (err) {
      // The message names the problem (auth type, header name), never a value.
      throw new VmcpError('FAILED_PRECONDITION', `connection "${connection.name}": ${(err as Error).message}`);
    }
    const secrets = credentialStrings(secret, headers);
    try {
      const session = await McpUpstreamSession.open({
        url,
        headers,
        secrets,
        connectTimeoutMs: this.connectTimeoutMs,
        ...(capabilities ? { capabilities } : {}),
        onToolsChanged: () => this.deps.onToolsChanged?.({ tenantId: ctx.tenantId, connectionId: connection.id, accountId: ctx.accountId }),
      });
      if (connection.auth_type === 'oauth2' && secret && 'token' in secret) {
        this.oauth.set(session, { token: secret.token, expiresAt: expiresAt ? Date.parse(expiresAt) : undefined });
      }
      return session;
    } catch (err) {
      if (err instanceof StoppedError) throw new VmcpError('UNAVAILABLE', `upstream of connection "${connection.name}" did not complete the MCP handshake in time`);
      const failure = classifyFailure(err);
      // An OAuth token refused at the handshake (revoked early, clocks apart): once, with a refreshed one.
      if (connection.auth_type === 'oauth2' && !rejectedToken && secret && 'token' in secret && failure.kind === 'http' && failure.status === 401) {
        return this.open(ctx, capabilities, secret.token);
      }
      throw toVmcpError(failure, connection.name, secrets);
    }
  }

  private async resolve(request: CredentialRequest) {
    try {
      return await this.deps.resolveCredential(request);
    } catch (err) {
      // The vault's codes (NOT_FOUND, UNAVAILABLE, DEADLINE_EXCEEDED, …) reach the caller as they are.
      if (isVmcpError(err)) throw err;
      throw new VmcpError('UNAVAILABLE', 'the credential could not be resolved');
    }
  }
}

/**
 * One session per tenant, connection and account, and per upstream address and auth
 * settings too: a connection edited before its change event arrives never reuses a session
 * opened under the old settings. Calls of agents that can be asked different things
 * (sampling, elicitation) get sessions of their own, declaring just that.
 */
function sessionKey(ctx: ConnectorContext, capabilities: executor.RelayedCapabilities | undefined): string {
  const { connection: c } = ctx;
  return JSON.stringify([ctx.tenantId, c.id, ctx.accountId, c.settings.url, c.auth_type, c.settings.header_name ?? null, capabilities ?? null]);
}

function upstreamUrl(raw: string | undefined, connectionName: string): URL {
  let url: URL;
  try {
    url = new URL(raw ?? '');
  } catch {
    throw new VmcpError('FAILED_PRECONDITION', `connection "${connectionName}" has no valid settings.url`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new VmcpError('FAILED_PRECONDITION', `connection "${connectionName}": settings.url must be http or https`);
  }
  // Credentials belong in the vault: fetch refuses them in a URL, and a URL ends up in too many places.
  if (url.username || url.password) {
    throw new VmcpError('FAILED_PRECONDITION', `connection "${connectionName}": settings.url must not contain credentials`);
  }
  return url;
}
