import { z } from 'zod';
import {
  AuthType,
  ConfigAuditInput,
  ConfigClientRequests,
  ConfigClientRequestsInput,
  ConnectedAccount,
  Connection,
  ConnectionSettingsInput,
  ConnectionTarget,
  Identifier,
  McpConfig,
  Name,
  PageRequest,
  Tenant,
  TenantScoped,
  ToolDefinition,
  ToolMappingInput,
  UnavailableConnection,
} from './common.js';
import { CredentialGrant } from './grants.js';
import { AccountId, ApiKeyId, ConfigId, ConnectionId, TenantId, TokenId } from './ids.js';
import { defineEvent, defineRpc } from './rpc.js';

// Subjects below are wire-compatible identifiers: never rename one in place.

const page = <T extends z.ZodType>(key: string, item: T) =>
  z.object({ [key]: z.array(item), next_page_token: z.string().optional() });

export const createTenant = defineRpc({
  subject: 'vmcp.policy.v1.tenants.create',
  request: z.strictObject({ name: Name }),
  reply: z.object({ tenant: Tenant, api_key: z.string(), key_id: ApiKeyId }),
});

export const listTenants = defineRpc({
  subject: 'vmcp.policy.v1.tenants.list',
  request: PageRequest.strict(),
  reply: page('tenants', Tenant),
});

export const createApiKey = defineRpc({
  subject: 'vmcp.policy.v1.api_keys.create',
  request: z.strictObject({ tenant_id: TenantId }),
  reply: z.object({ key_id: ApiKeyId, api_key: z.string() }),
});

export const revokeApiKey = defineRpc({
  subject: 'vmcp.policy.v1.api_keys.revoke',
  request: z.strictObject({ tenant_id: TenantId, key_id: ApiKeyId }),
  reply: z.object({ key_id: ApiKeyId, revoked: z.literal(true) }),
});

/** Resolves a tenant API key to its tenant; UNAUTHENTICATED when unknown or revoked. */
export const authenticateApiKey = defineRpc({
  subject: 'vmcp.policy.v1.api_keys.authenticate',
  request: z.strictObject({ api_key: z.string().min(1).max(512) }),
  reply: z.object({ tenant_id: TenantId, key_id: ApiKeyId }),
});

export const createConnection = defineRpc({
  subject: 'vmcp.policy.v1.connections.create',
  request: TenantScoped.extend({
    name: Name,
    connector: z.string().min(1).max(64),
    auth_type: AuthType,
    /** `settings.oauth.client_secret` never comes here: the edge sends it to the vault and says whether one was given. */
    settings: ConnectionSettingsInput.default({}),
    client_secret_set: z.boolean().optional(),
  }).strict(),
  reply: z.object({ connection: Connection }),
});

export const listConnections = defineRpc({
  subject: 'vmcp.policy.v1.connections.list',
  request: TenantScoped.extend(PageRequest.shape).strict(),
  reply: page('connections', Connection),
});

export const getConnection = defineRpc({
  subject: 'vmcp.policy.v1.connections.get',
  request: TenantScoped.extend({ name: Name }).strict(),
  reply: z.object({ connection: Connection }),
});

export const updateConnection = defineRpc({
  subject: 'vmcp.policy.v1.connections.update',
  request: TenantScoped.extend({
    name: Name,
    auth_type: AuthType.optional(),
    settings: ConnectionSettingsInput.optional(),
    /** Absent: unchanged. */
    client_secret_set: z.boolean().optional(),
  }).strict(),
  reply: z.object({ connection: Connection }),
});

export const deleteConnection = defineRpc({
  subject: 'vmcp.policy.v1.connections.delete',
  request: TenantScoped.extend({ name: Name }).strict(),
  reply: z.object({ name: Name, deleted: z.literal(true), connection_id: ConnectionId, account_ids: z.array(AccountId) }),
});

/**
 * First step of storing a static credential: finds or creates the account record of
 * (connection, identifier) and says which auth type its credential must have. The
 * credential itself goes straight to the vault, never through policy.
 */
export const prepareAccount = defineRpc({
  subject: 'vmcp.policy.v1.accounts.prepare',
  request: TenantScoped.extend({
    connection_name: Name,
    identifier: Identifier,
    /** `static` for a posted credential, `oauth2` for an authorization link. */
    flow: z.enum(['static', 'oauth2']).default('static'),
  }).strict(),
  reply: z.object({ connected_account: ConnectedAccount, connection_id: ConnectionId, created: z.boolean() }),
});

export const setAccountStatus = defineRpc({
  subject: 'vmcp.policy.v1.accounts.set_status',
  request: TenantScoped.extend({
    account_id: AccountId,
    status: z.enum(['ACTIVE', 'EXPIRED', 'DISCONNECTED', 'PENDING_AUTH']),
  }).strict(),
  reply: z.object({ connected_account: ConnectedAccount }),
});

export const listAccounts = defineRpc({
  subject: 'vmcp.policy.v1.accounts.list',
  request: TenantScoped.extend({
    identifier: Identifier.optional(),
    connection_name: Name.optional(),
    ...PageRequest.shape,
  }).strict(),
  reply: page('connected_accounts', ConnectedAccount),
});

export const getAccount = defineRpc({
  subject: 'vmcp.policy.v1.accounts.get',
  request: TenantScoped.extend({ account_id: AccountId }).strict(),
  reply: z.object({ connected_account: ConnectedAccount }),
});

export const ConfigInput = z.strictObject({
  name: Name,
  description: z.string().max(2000).nullish(),
  connection_tool_mappings: z.array(ToolMappingInput).min(1).max(100),
  /** Audit options; absent is `{capture_payloads: false}` (a PUT without it turns capture off). */
  audit: ConfigAuditInput.optional(),
  /** Absent, like each request in it: allowed on create, unchanged on replace (a PUT never widens them by omission). */
  client_requests: ConfigClientRequestsInput.optional(),
});

export const createConfig = defineRpc({
  subject: 'vmcp.policy.v1.configs.create',
  request: TenantScoped.extend(ConfigInput.shape).strict(),
  reply: z.object({ config: McpConfig }),
});

export const listConfigs = defineRpc({
  subject: 'vmcp.policy.v1.configs.list',
  request: TenantScoped.extend(PageRequest.shape).strict(),
  reply: page('configs', McpConfig),
});

export const getConfig = defineRpc({
  subject: 'vmcp.policy.v1.configs.get',
  request: TenantScoped.extend({ config_id: ConfigId }).strict(),
  reply: z.object({ config: McpConfig }),
});

export const replaceConfig = defineRpc({
  subject: 'vmcp.policy.v1.configs.replace',
  request: TenantScoped.extend({ config_id: ConfigId, ...ConfigInput.shape }).strict(),
  reply: z.object({ config: McpConfig }),
});

export const deleteConfig = defineRpc({
  subject: 'vmcp.policy.v1.configs.delete',
  request: TenantScoped.extend({ config_id: ConfigId }).strict(),
  reply: z.object({ config_id: ConfigId, deleted: z.literal(true) }),
});

export const ConfigAccountState = z.object({
  connection_name: Name,
  connector: z.string(),
  auth_type: AuthType,
  connected_account_id: AccountId.nullable(),
  connected_account_status: z.enum(['ACTIVE', 'PENDING_AUTH', 'EXPIRED', 'DISCONNECTED', 'NOT_CONNECTED']),
});

export const configAccounts = defineRpc({
  subject: 'vmcp.policy.v1.configs.accounts',
  request: TenantScoped.extend({ config_id: ConfigId, identifier: Identifier }).strict(),
  reply: z.object({ connected_accounts: z.array(ConfigAccountState) }),
});

export const mintToken = defineRpc({
  subject: 'vmcp.policy.v1.tokens.mint',
  request: TenantScoped.extend({
    config_id: ConfigId,
    identifier: Identifier,
    expiry_seconds: z.number().int().min(60).max(86_400).default(3600),
  }).strict(),
  reply: z.object({ token: z.string(), token_id: TokenId, expires_at: z.string(), mcp_server_url: z.string() }),
});

export const revokeToken = defineRpc({
  subject: 'vmcp.policy.v1.tokens.revoke',
  request: TenantScoped.extend({ token_id: TokenId }).strict(),
  reply: z.object({ token_id: TokenId, revoked: z.literal(true) }),
});

/** The public keys session tokens are signed with (JWKS), for local verification at the edge. */
export const tokenKeys = defineRpc({
  subject: 'vmcp.policy.v1.tokens.keys',
  request: z.strictObject({}),
  reply: z.object({
    issuer: z.string(),
    keys: z.array(z.looseObject({ kid: z.string(), kty: z.string(), alg: z.string() })),
  }),
});

/** Who is calling, as established from a verified session token. */
export const SessionPrincipal = z.strictObject({
  tenant_id: TenantId,
  config_id: ConfigId,
  identifier: Identifier,
  token_id: TokenId.optional(),
});
export type SessionPrincipal = z.infer<typeof SessionPrincipal>;

export const ScopedTool = z.object({
  /** The name the agent sees (prefix applied). */
  name: z.string(),
  connection_name: Name,
  connector: z.string(),
  definition: ToolDefinition,
});
export type ScopedTool = z.infer<typeof ScopedTool>;

/**
 * What a user's agent may see: mapped tools of connections with an ACTIVE account.
 * `unavailable` names the connections whose discovery failed (absent from a policy replica
 * older than the field: read it as none); a list with any is incomplete and never cached.
 */
export const scopedTools = defineRpc({
  subject: 'vmcp.policy.v1.tools.scoped',
  request: SessionPrincipal,
  reply: z.object({ tools: z.array(ScopedTool), unavailable: z.array(UnavailableConnection).default([]) }),
});

export const DenyReason = z.enum([
  'TOOL_NOT_FOUND',
  'ACCOUNT_NOT_ACTIVE',
  'TOKEN_REVOKED',
  'CONFIG_NOT_FOUND',
  'INVALID_ARGUMENT',
  'FORBIDDEN',
]);
export type DenyReason = z.infer<typeof DenyReason>;

/** Facts about the call that the audit entry records, known as far as policy got. */
export const CallContext = z.object({
  /** Null for a call by connection (execute_tool without a config). */
  config_id: ConfigId.nullable(),
  connection_name: Name.nullable(),
  connector: z.string().nullable(),
  connected_account_id: AccountId.nullable(),
  /** The config captures arguments and results in the audit trail (redacted); absent is false. */
  capture_payloads: z.boolean().optional(),
  /** What the config lets an upstream ask the agent during the call; absent (a call by connection, or a policy from before the option) is nothing. */
  client_requests: ConfigClientRequests.optional(),
});
export type CallContext = z.infer<typeof CallContext>;

export const Decision = z.discriminatedUnion('decision', [
  z.object({
    decision: z.literal('allow'),
    context: CallContext,
    connection: ConnectionTarget,
    connected_account_id: AccountId,
    /** The tool's name at the connector (prefix removed). */
    upstream_tool_name: z.string(),
    /** Lets the executor obtain this account's credential from the vault, for this call only. */
    grant: CredentialGrant,
    /** This call's deadline: the config's, else the connection's, for this tool (absent: the gateway default). */
    timeout_ms: z.number().int().min(100).max(300_000).optional(),
    /** The tool's input schema, so an edge that reuses this decision checks new arguments as policy does. */
    input_schema: z.record(z.string(), z.unknown()).optional(),
  }),
  z.object({
    decision: z.literal('deny'),
    context: CallContext,
    reason: DenyReason,
    message: z.string(),
  }),
]);
export type Decision = z.infer<typeof Decision>;

/** Whether this principal may call this tool now; everything is checked before any provider is contacted. */
export const decide = defineRpc({
  subject: 'vmcp.policy.v1.decide',
  request: SessionPrincipal.extend({
    tool_name: z.string().min(1).max(256),
    arguments: z.record(z.string(), z.unknown()).default({}),
  }),
  reply: Decision,
});

/**
 * A tenant backend's call by connection (execute_tool with `connection_name`): any tool of
 * that connection's catalog, under the identifier's account; no config, no prefix.
 */
export const decideByConnection = defineRpc({
  subject: 'vmcp.policy.v1.decide_connection',
  request: TenantScoped.extend({
    connection_name: Name,
    identifier: Identifier,
    tool_name: z.string().min(1).max(256),
    arguments: z.record(z.string(), z.unknown()).default({}),
  }).strict(),
  reply: Decision,
});

/** Published when an account's usability changes, so caches (pooled upstream connections) drop it. */
export const accountChanged = defineEvent({
  subject: 'vmcp.policy.v1.events.account_changed',
  payload: z.object({ tenant_id: TenantId, account_id: AccountId, status: z.string() }),
});

/** Published when a connection's settings change or it is deleted. */
export const connectionChanged = defineEvent({
  subject: 'vmcp.policy.v1.events.connection_changed',
  payload: z.object({ tenant_id: TenantId, connection_id: z.string() }),
});

