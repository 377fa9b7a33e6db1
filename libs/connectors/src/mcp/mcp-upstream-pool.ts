import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode as JsonRpcCode, McpError, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { VmcpError, type CallToolResult, type ConnectionTarget, type StaticAuth, type ToolDefinition } from '@vmcp/contracts';
import { VMCP_VERSION } from '@vmcp/telemetry';
import { buildAuthHeaders } from '../auth-headers.js';

export interface PoolOptions {
  /** Fetches an account's credential (from the vault); only called when a session is opened. */
  readonly resolveCredential: (tenantId: string, accountId: string) => Promise<StaticAuth>;
  /** Told when an upstream announces that its tool list changed. */
  readonly onToolsChanged?: (tenantId: string, connectionId: string, accountId: string | null) => void;
  readonly idleMs?: number;
  readonly maxSessions?: number;
  readonly connectTimeoutMs?: number;
}

interface Session {
  readonly key: string;
  readonly tenantId: string;
  readonly connectionId: string;
  readonly accountId: string | null;
  readonly client: Client;
  tools?: Promise<ToolDefinition[]>;
  lastUsed: number;
}

const MAX_PAGES = 50;

/** A short, secret-free description of an upstream failure. */
function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s+/g, ' ').slice(0, 300);
}

/**
 * Upstream MCP sessions, one per connected account, opened with that account's
 * credential and reused by every call until idle, evicted, or the account or
 * connection changes. The credential lives only inside the session's transport.
 */
export class McpUpstreamPool {
  private readonly sessions = new Map<string, Session>();
  private readonly opening = new Map<string, Promise<Session>>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly idleMs: number;
  private readonly maxSessions: number;

  constructor(private readonly options: PoolOptions) {
    this.idleMs = options.idleMs ?? 5 * 60_000;
    this.maxSessions = options.maxSessions ?? 1000;
    this.sweeper = setInterval(() => this.sweep(), Math.min(this.idleMs, 60_000));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  async listTools(tenantId: string, target: ConnectionTarget, accountId: string | null): Promise<ToolDefinition[]> {
    return this.withSession(tenantId, target, accountId, (s) => {
      s.tools ??= this.fetchTools(s).catch((err: unknown) => {
        s.tools = undefined;
        throw err;
      });
      return s.tools;
    });
  }

  async callTool(
    tenantId: string,
    target: ConnectionTarget,
    accountId: string,
    name: string,
    args: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<CallToolResult> {
    return this.withSession(tenantId, target, accountId, async (s) => {
      const result = await s.client.callTool({ name, arguments: args }, undefined, { timeout: timeoutMs });
      return result as CallToolResult;
    });
  }

  evictAccount(accountId: string): void {
    for (const s of this.sessions.values()) if (s.accountId === accountId) this.close(s);
  }

  evictConnection(connectionId: string): void {
    for (const s of this.sessions.values()) if (s.connectionId === connectionId) this.close(s);
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.sessions.values()].map((s) => this.close(s)));
  }

  private async fetchTools(s: Session): Promise<ToolDefinition[]> {
    const tools: ToolDefinition[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await s.client.listTools(cursor ? { cursor } : undefined);
      tools.push(...(res.tools as ToolDefinition[]));
      cursor = res.nextCursor;
      if (!cursor) break;
    }
    return tools;
  }

  /**
   * Runs an operation on the account's session. A session the upstream no longer knows
   * (404) is reopened once: the operation never reached the tool, so retrying is safe.
   */
  private async withSession<T>(
    tenantId: string,
    target: ConnectionTarget,
    accountId: string | null,
    op: (s: Session) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const session = await this.session(tenantId, target, accountId);
      try {
        return await op(session);
      } catch (err) {
        const expired = err instanceof StreamableHTTPError && err.code === 404;
        if (expired || this.isTransportFailure(err)) this.close(session);
        if (expired && attempt === 0) continue;
        throw this.toVmcpError(err, target);
      }
    }
  }

  private isTransportFailure(err: unknown): boolean {
    return err instanceof TypeError || (err instanceof StreamableHTTPError && (err.code ?? 0) >= 500);
  }

  private toVmcpError(err: unknown, target: ConnectionTarget): VmcpError {
    if (err instanceof VmcpError) return err;
    if (err instanceof McpError) {
      if (err.code === JsonRpcCode.RequestTimeout) {
        return new VmcpError('DEADLINE_EXCEEDED', `upstream of connection "${target.name}" did not answer in time`);
      }
      return new VmcpError('UPSTREAM_ERROR', `upstream of connection "${target.name}": ${describe(err)}`);
    }
    if (err instanceof StreamableHTTPError) {
      if (err.code === 401 || err.code === 403) {
        return new VmcpError('UPSTREAM_ERROR', `upstream of connection "${target.name}" refused the credential (HTTP ${err.code})`);
      }
      return new VmcpError('UPSTREAM_ERROR', `upstream of connection "${target.name}" answered HTTP ${err.code ?? 'error'}`);
    }
    return new VmcpError('UNAVAILABLE', `upstream of connection "${target.name}" is unavailable`);
  }

  private async session(tenantId: string, target: ConnectionTarget, accountId: string | null): Promise<Session> {
    const key = `${target.id}|${accountId ?? ''}`;
    const existing = this.sessions.get(key);
    if (existing) {
      existing.lastUsed = Date.now();
      // Most recently used last, so the first entry is the one to evict at the cap.
      this.sessions.delete(key);
      this.sessions.set(key, existing);
      return existing;
    }
    let pending = this.opening.get(key);
    if (!pending) {
      pending = this.open(key, tenantId, target, accountId).finally(() => this.opening.delete(key));
      this.opening.set(key, pending);
    }
    return pending;
  }

  private async open(key: string, tenantId: string, target: ConnectionTarget, accountId: string | null): Promise<Session> {
    if (!target.settings.url) throw new VmcpError('FAILED_PRECONDITION', `connection "${target.name}" has no settings.url`);
    let secret: StaticAuth | undefined;
    if (target.auth_type !== 'none') {
      if (!accountId) throw new VmcpError('ACCOUNT_NOT_ACTIVE', `connection "${target.name}" needs a connected account`);
      secret = await this.options.resolveCredential(tenantId, accountId);
    }
    let headers: Record<string, string>;
    try {
      headers = buildAuthHeaders(target.auth_type, secret, target.settings.header_name);
    } catch {
      throw new VmcpError('FAILED_PRECONDITION', `stored credential does not fit connection "${target.name}"`);
    }
    const transport = new StreamableHTTPClientTransport(new URL(target.settings.url), { requestInit: { headers } });
    const client = new Client({ name: 'vmcp-executor', version: VMCP_VERSION }, { capabilities: {} });
    const session: Session = { key, tenantId, connectionId: target.id, accountId, client, lastUsed: Date.now() };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      session.tools = undefined;
      this.options.onToolsChanged?.(tenantId, target.id, accountId);
    });
    try {
      await client.connect(transport, { timeout: this.options.connectTimeoutMs ?? 10_000 });
    } catch (err) {
      await client.close().catch(() => undefined);
      throw this.toVmcpError(err, target);
    }
    client.onclose = () => {
      if (this.sessions.get(key) === session) this.sessions.delete(key);
    };
    if (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.values().next().value;
      if (oldest) this.close(oldest);
    }
    this.sessions.set(key, session);
    return session;
  }

  private close(s: Session): void {
    if (this.sessions.get(s.key) === s) this.sessions.delete(s.key);
    void s.client.close().catch(() => undefined);
  }

  private sweep(): void {
    const cutoff = Date.now() - this.idleMs;
    for (const s of this.sessions.values()) if (s.lastUsed < cutoff) this.close(s);
  }
}
