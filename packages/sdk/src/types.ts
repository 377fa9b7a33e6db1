import type { operations } from './generated/openapi.js';

// Readable names for the request and reply shapes of the management API. Every one is
// taken from the generated OpenAPI types, so a change of the API shows up here as a
// type error after `npm run openapi` instead of as a silent mismatch at run time.

type Operation = keyof operations;
/** The JSON body of an operation's reply with the given status. */
type Reply<O extends Operation, S extends keyof operations[O]['responses']> = operations[O]['responses'][S] extends {
  content: { 'application/json': infer T };
}
  ? T
  : never;
/** The JSON body an operation takes. */
type Body<O extends Operation> = NonNullable<operations[O]['requestBody']>['content']['application/json'];
/** The query parameters an operation takes. */
type Query<O extends Operation> = NonNullable<operations[O]['parameters']['query']>;

/** Every code the API puts in `{"error": {"code"}}`; stable upper-case words to switch on. */
export type ErrorCode = Reply<'get_tenants', 'default'>['error']['code'];

/** `page_size` (default 50, max 200) and the `next_page_token` of the previous page. */
export type PageRequest = Query<'get_connections'>;

export type Tenant = Reply<'post_tenants', 201>['tenant'];
export type CreateTenantInput = Body<'post_tenants'>;
/** The new tenant and its first API key; the key is shown this once. */
export type CreateTenantResult = Reply<'post_tenants', 201>;
export type TenantPage = Reply<'get_tenants', 200>;
/** A new API key of a tenant; shown this once. */
export type CreatedApiKey = Reply<'post_tenants_tenant_id_api_keys', 201>;
export type RevokedApiKey = Reply<'delete_tenants_tenant_id_api_keys_key_id', 200>;

export type Connector = Reply<'get_connectors', 200>['connectors'][number];
export type ConnectorsQuery = Query<'get_connectors'>;
export type ToolDefinition = Reply<'get_tools', 200>['tools'][number];
export type ToolCatalogQuery = Query<'get_tools'>;
export type ScopedToolsQuery = Query<'get_tools_scoped'>;
/**
 * What an identifier's agent sees through a config. `unavailable`: the mapped connections
 * whose tools could not be discovered just now (upstream down, too slow, refusing the
 * credential), with the error; their tools are missing from `tools` for this answer only.
 */
export type ScopedTools = Reply<'get_tools_scoped', 200>;
export type UnavailableConnection = ScopedTools['unavailable'][number];

export type AuthType = Connection['auth_type'];
export type Connection = Reply<'get_connections_name', 200>['connection'];
export type CreateConnectionInput = Body<'post_connections'>;
export type UpdateConnectionInput = Body<'patch_connections_name'>;
export type ConnectionPage = Reply<'get_connections', 200>;
export type DeletedConnection = Reply<'delete_connections_name', 200>;

export type ConnectedAccount = Reply<'get_connected_accounts_id', 200>['connected_account'];
/** `static_auth` is one of `{token}`, `{api_key}`, `{username, password}` or `{headers}`, by the connection's auth type. */
export type UpsertConnectedAccountInput = Body<'post_connected_accounts'>;
export type ConnectedAccountFilter = Omit<Query<'get_connected_accounts'>, 'page_token'>;
export type ConnectedAccountPage = Reply<'get_connected_accounts', 200>;
export type AuthorizationLinkInput = Body<'post_connected_accounts_authorization_link'>;
export type AuthorizationLink = Reply<'post_connected_accounts_authorization_link', 200>;

/** A virtual MCP server: the tools it exposes, per connection, at `mcp_server_url`. */
export type McpConfig = Reply<'get_mcp_configs_config_id', 200>['config'];
export type McpConfigInput = Body<'post_mcp_configs'>;
export type McpConfigPage = Reply<'get_mcp_configs', 200>;
export type DeletedMcpConfig = Reply<'delete_mcp_configs_config_id', 200>;
export type MintTokenInput = Body<'post_mcp_configs_config_id_tokens'>;
/** A session token for one identifier: hand `token` and `mcp_server_url` to the agent. */
export type SessionToken = Reply<'post_mcp_configs_config_id_tokens', 201>;
export type RevokedToken = Reply<'delete_mcp_tokens_token_id', 200>;
export type ConfigAccountsInput = Body<'post_mcp_configs_config_id_connected_accounts'>;
export type ConfigAccountState = Reply<'post_mcp_configs_config_id_connected_accounts', 200>['connected_accounts'][number];

type ExecuteToolBody = Body<'post_execute_tool'>;
/**
 * One tool call for an identifier. `config_id`: the tool as that config exposes it (its
 * names, its scope); `connection_name`: the connector's own tool name on that
 * connection. Exactly one of the two.
 */
export type ExecuteToolInput = Omit<ExecuteToolBody, 'config_id' | 'connection_name'> &
  ({ config_id: string; connection_name?: never } | { connection_name: string; config_id?: never });
/** `successful: false` with `error` when the tool ran and reported an error; a refused call throws instead. */
export type ExecuteToolResult = Reply<'post_execute_tool', 200>;

export type ToolCallLog = Reply<'get_tool_call_logs_execution_id', 200>['tool_call_log'];
export type ToolCallLogFilter = Omit<Query<'get_tool_call_logs'>, 'page_token'>;
export type ToolCallLogPage = Reply<'get_tool_call_logs', 200>;
export type AuditVerifyQuery = Query<'get_audit_verify'>;
/** The result of checking the tenant's audit hash chain; `first_broken` says where it fails. */
export type AuditVerification = Reply<'get_audit_verify', 200>;
export type AuditSettings = Reply<'get_audit_settings', 200>['settings'];
export type AuditSettingsInput = Body<'put_audit_settings'>;

export type Webhook = Reply<'get_webhook', 200>['webhook'];
export type WebhookInput = Body<'put_webhook'>;
/** `signing_secret` is present when the webhook was created (shown once). */
export type WebhookWithSecret = Reply<'put_webhook', 200>;
export type RotatedWebhookSecret = Reply<'post_webhook_rotate_secret', 200>;

export type KeyRotation = Reply<'get_key_rotations_id', 200>['key_rotation'];
export type StartKeyRotationInput = Body<'post_key_rotations'>;
export type KeyRotationFilter = Omit<Query<'get_key_rotations'>, 'page_token'>;
export type KeyRotationPage = Reply<'get_key_rotations', 200>;

export type Liveness = Reply<'get__healthz', 200>;
export type Readiness = Reply<'get__readyz', 200>;
