import type { AuthType, CallToolResult, ConnectionTarget, executor, RpcReply, StaticAuth, ToolDefinition } from '@vmcp/contracts';

/** Who a connector works for on one request: never a session token, never a secret. */
export interface ConnectorContext {
  readonly tenantId: string;
  readonly connection: ConnectionTarget;
  /** The connected account whose credential is used; null only where none is needed (auth `none`). */
  readonly accountId: string | null;
  /** Policy's grant for this account, which the vault asks for; null with no account. */
  readonly grant: string | null;
}

export interface ListToolsOptions {
  /** Budget of the whole discovery, credential and upstream handshake included. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface CallToolOptions {
  /** Budget of the whole call, credential and upstream handshake included. */
  readonly timeoutMs: number;
  /** Aborting it cancels the call upstream too. */
  readonly signal?: AbortSignal;
  /**
   * Asks the upstream for progress notifications of this call (connectors whose upstream
   * has them: `mcp`). Never called after the call settled. The deadline stays absolute:
   * progress does not extend it.
   */
  readonly onProgress?: (progress: CallProgress) => void;
  /**
   * Passes on the upstream's log messages (`notifications/message`) sent on this call's own
   * stream (connectors whose upstream has them: `mcp`), cleaned of the credential. Never
   * called after the call settled. Levels are not filtered here.
   */
  readonly onLog?: (log: CallLog) => void;
  /**
   * The agent can answer these server-to-client requests (connectors whose upstream can ask:
   * `mcp`): the upstream session declares exactly `capabilities`, and the requests the
   * upstream sends on this call's own stream go to `relay`, whose answer goes back upstream.
   */
  readonly clientRequests?: ClientRequestRelay;
}

/** Where a call's server-to-client requests go (see CallToolOptions.clientRequests). */
export interface ClientRequestRelay {
  readonly capabilities: executor.RelayedCapabilities;
  /** `signal` aborts when the upstream no longer waits (it cancelled its request, or the call ended). */
  readonly relay: (method: executor.ClientRequestMethod, params: Record<string, unknown>, signal: AbortSignal) => Promise<ClientRequestAnswer>;
}

/** The agent's answer to a relayed request: its result, or its JSON-RPC error (the bus reply of executor.clientRequest). */
export type ClientRequestAnswer = RpcReply<typeof executor.clientRequest>;

/** One log message of a running call: the upstream's level, logger and data (secrets removed, bounded). */
export interface CallLog {
  readonly level: executor.LoggingLevel;
  readonly logger?: string;
  /** Any JSON, serialized at most MAX_LOG_DATA_BYTES characters (longer data is cut, as text). */
  readonly data: unknown;
}

/** One progress notification of a running call, the upstream's own numbers and words (secrets removed). */
export interface CallProgress {
  readonly progress: number;
  readonly total?: number;
  readonly message?: string;
}

/** Which cached state to drop: everything held for one account, one connection, or one tenant. */
export type CacheScope = { readonly accountId: string } | { readonly connectionId: string } | { readonly tenantId: string };

/**
 * One kind of upstream (any MCP server, or a native API such as Gmail or Slack). Errors
 * are VmcpError with a stable code and a message that never contains a secret.
 */
export interface Connector {
  readonly id: string;
  /** Upstream sessions (and the credentials they carry) held open right now, for the pool gauge. */
  readonly sessions: number;
  listTools(ctx: ConnectorContext, options?: ListToolsOptions): Promise<ToolDefinition[]>;
  callTool(ctx: ConnectorContext, name: string, args: Record<string, unknown>, options: CallToolOptions): Promise<CallToolResult>;
  /**
   * Drops what is cached for the scope (pooled sessions and the credentials they hold,
   * tool lists) at once; calls already running finish on what they hold.
   */
  forget(scope: CacheScope): void;
  close(): Promise<void>;
}

/** What the vault is asked for: one account's credential, under policy's grant. */
export interface CredentialRequest {
  readonly tenantId: string;
  readonly accountId: string;
  readonly grant: string;
  /**
   * OAuth only: the access token the provider just refused (401). The vault refreshes
   * unless another caller already has, and returns the new token.
   */
  readonly rejectedToken?: string;
}

/** A decrypted credential, as the vault resolves it for the executor. */
export interface ResolvedCredential {
  readonly auth_type: AuthType;
  readonly secret: StaticAuth;
  /** When an OAuth access token stops working (RFC 3339); a session holding it is replaced before then. */
  readonly expires_at?: string | undefined;
  /** The API base the provider named for this account (Salesforce's instance_url), used when the connection sets none. */
  readonly base_url?: string | undefined;
}

/** What connectors need from their host: the vault, and a way to announce tool-list changes. */
export interface ConnectorDeps {
  readonly resolveCredential: (request: CredentialRequest) => Promise<ResolvedCredential>;
  readonly onToolsChanged?: (change: { readonly tenantId: string; readonly connectionId: string; readonly accountId: string | null }) => void;
  /**
   * The provider refused the account's credential for good (after one refresh, for OAuth):
   * the account is unusable until the user authorizes again or stores a new credential.
   */
  readonly onCredentialRefused?: (refused: { readonly tenantId: string; readonly connectionId: string; readonly accountId: string }) => void;
}
