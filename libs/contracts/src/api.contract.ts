import { z } from 'zod';
import { AuditSettings, ChainVerification, ToolCallLog, ToolCallLogFilter } from './audit.contract.js';
import {
  AuthType,
  ConnectedAccount,
  Connection,
  ConnectionSettingsInput,
  Identifier,
  McpConfig,
  Name,
  PageRequest,
  StaticAuth,
  UnavailableConnection,
  Tenant,
} from './common.js';
import { ErrorReply } from './errors.js';
import { ApiKeyId, ConfigId, ExecutionId, TenantId, TokenId } from './ids.js';
import { ConfigAccountState, ConfigInput } from './policy.contract.js';
import { KeyRotation, KeyRotationScope, KeyRotationStatus } from './vault-keys.contract.js';
import { SigningSecret, Webhook, WebhookInput } from './webhooks.contract.js';

/**
 * The management REST API (API.md) as data: each route's method, path, who may call
 * it and the schemas of its input and output. The edge validates with these and the
 * OpenAPI document is generated from them, so the two cannot drift apart.
 */
export interface ApiRoute {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI-style path, e.g. /api/v1/connections/{name}. */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  /** `admin_or_tenant`: either key; a tenant key acts on its own tenant only. */
  readonly auth: 'admin' | 'tenant' | 'admin_or_tenant' | 'none';
  readonly body?: z.ZodType;
  readonly query?: z.ZodObject;
  readonly response: z.ZodType;
  readonly status: number;
  /** Another success status with the same reply (an upsert: 201 created, 200 updated). */
  readonly alsoStatus?: number;
  /** Media type of the response when not `application/json` (NDJSON: `response` is one line). */
  readonly produces?: string;
}

export const CreateTenantBody = z.strictObject({ name: Name });
export const CreateConnectionBody = z.strictObject({
  name: Name,
  connector: z.string().min(1).max(64),
  auth_type: AuthType,
  settings: ConnectionSettingsInput.default({}),
});
export const UpdateConnectionBody = z.strictObject({
  auth_type: AuthType.optional(),
  settings: ConnectionSettingsInput.optional(),
});
export const UpsertAccountBody = z.strictObject({
  connection_name: Name,
  identifier: Identifier,
  authorization_details: z.strictObject({ static_auth: StaticAuth }),
});
/** Where the user's browser goes after authorizing: the tenant's app (http or https). */
const RedirectUrl = z.url({ protocol: /^https?$/ }).max(2048);
export const AuthorizationLinkBody = z.strictObject({
  connection_name: Name,
  identifier: Identifier,
  redirect_url: RedirectUrl.optional(),
});
export const AuthorizationLinkReply = z.object({ link: z.string(), expires_at: z.string(), connected_account_id: z.string() });
export const MintTokenBody = z.strictObject({
  identifier: Identifier,
  expiry_seconds: z.number().int().min(60).max(86_400).optional(),
});
export const ConfigAccountsBody = z.strictObject({
  identifier: Identifier,
  /** Adds a fresh authorization link for each OAuth connection the user still has to authorize. */
  include_auth_link: z.boolean().optional(),
  redirect_url: RedirectUrl.optional(),
});
export const ListAccountsQuery = z.strictObject({
  identifier: Identifier.optional(),
  connection_name: Name.optional(),
  ...PageRequest.shape,
});
export const ScopedToolsQuery = z.strictObject({ config_id: ConfigId, identifier: Identifier });
/**
 * One tool call for a user, outside MCP. `config_id`: the tool as that config exposes it
 * (its names, its scope); `connection_name`: the connector's own tool name on that
 * connection, for a tenant backend that needs no config. Exactly one of the two.
 */
export const ExecuteToolBody = z
  .strictObject({
    tool_name: z.string().min(1).max(256),
    params: z.record(z.string(), z.unknown()).default({}),
    identifier: Identifier,
    config_id: ConfigId.optional(),
    connection_name: Name.optional(),
    /** Groups the calls of one agent run in the audit log (`tool_call_logs?agent_run_id=`). */
    agent_run_id: z.string().min(1).max(255).optional(),
  })
  .refine((b) => (b.config_id === undefined) !== (b.connection_name === undefined), {
    message: 'give exactly one of config_id and connection_name',
    path: ['config_id'],
  });
/**
 * The tool's result: `data` is its structured content, else its text parsed as JSON when
 * it is JSON, else its text; `content` the MCP content blocks as the tool returned them.
 * A tool that ran and reported an error is `successful: false` with its text in `error`
 * (HTTP 200, as an MCP client would see it); a call that was refused or could not run is
 * an API error instead.
 */
export const ExecuteToolReply = z.object({
  execution_id: ExecutionId,
  successful: z.boolean(),
  data: z.unknown(),
  error: z.string().nullable(),
  content: z.array(z.looseObject({ type: z.string() })),
});
export const ToolsQuery = z.strictObject({ connector: z.string().max(64).optional() });
/** `include=tools` adds each connector's static tool definitions (none for `mcp`, whose tools are discovered). */
export const ConnectorsQuery = z.strictObject({ include: z.literal('tools').optional() });
export const ListLogsQuery = z.strictObject({ ...ToolCallLogFilter.shape, ...PageRequest.shape });
/** The list's filters; `page_size` is how many entries the edge fetches per step (default and max 200). */
export const ExportLogsQuery = z.strictObject({
  ...ToolCallLogFilter.shape,
  page_size: z.coerce.number().int().min(1).max(200).default(200),
  page_token: PageRequest.shape.page_token,
});
const ChainSeq = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
/** Sequence numbers of the tenant's audit records, both included; default: the whole chain still kept. */
export const VerifyAuditQuery = z.strictObject({ from: ChainSeq.optional(), to: ChainSeq.optional() });
export const PutAuditSettingsBody = z.strictObject({ retention_days: z.number().int().min(1).max(3650) });
export const PageQuery = PageRequest.strict();
/**
 * `master` (admin key only) or `tenant`. With the admin key a tenant rotation names its
 * `tenant_id`; with a tenant key it rotates the key's own tenant and `tenant_id` is refused.
 */
export const StartKeyRotationBody = z.discriminatedUnion('scope', [
  z.strictObject({ scope: z.literal('master') }),
  z.strictObject({ scope: z.literal('tenant'), tenant_id: TenantId.optional() }),
]);
/** `tenant_id` is an admin filter; a tenant key always sees its own tenant's rotations only. */
export const ListKeyRotationsQuery = z.strictObject({
  scope: KeyRotationScope.optional(),
  tenant_id: TenantId.optional(),
  status: KeyRotationStatus.optional(),
  ...PageRequest.shape,
});
export const PutWebhookBody = WebhookInput;

export const ApiToolDefinition = z.object({
  name: z.string(),
  connector: z.string(),
  connection_name: z.string().optional(),
  title: z.string().optional(),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()),
  output_schema: z.record(z.string(), z.unknown()).optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
});

export const ConnectorSummary = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  auth_types: z.array(AuthType),
  /** True when tools are discovered from the upstream per connection (`mcp`); false for native connectors. */
  dynamic_tools: z.boolean(),
  /** The provider's OAuth endpoints and default scopes, used when a connection's settings.oauth leaves them out. */
  oauth: z.object({ authorize_url: z.string(), token_url: z.string(), revocation_url: z.string().optional(), scopes: z.array(z.string()) }).optional(),
  /** With `?include=tools`: the static tool definitions. */
  tools: z.array(ApiToolDefinition).optional(),
});

const list = <T extends z.ZodType>(key: string, item: T) =>
  z.object({ [key]: z.array(item), next_page_token: z.string().optional() });

export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'post', path: '/api/v1/tenants', summary: 'Create a tenant and its first API key (shown once)', tag: 'tenants', auth: 'admin', body: CreateTenantBody, response: z.object({ tenant: Tenant, api_key: z.string() }), status: 201 },
  { method: 'get', path: '/api/v1/tenants', summary: 'List tenants', tag: 'tenants', auth: 'admin', query: PageQuery, response: list('tenants', Tenant), status: 200 },
  { method: 'post', path: '/api/v1/tenants/{tenant_id}/api_keys', summary: 'Create another API key for a tenant', tag: 'tenants', auth: 'admin', response: z.object({ key_id: ApiKeyId, api_key: z.string() }), status: 201 },
  { method: 'delete', path: '/api/v1/tenants/{tenant_id}/api_keys/{key_id}', summary: 'Revoke an API key at once', tag: 'tenants', auth: 'admin', response: z.object({ key_id: ApiKeyId, revoked: z.literal(true) }), status: 200 },
  { method: 'get', path: '/api/v1/connectors', summary: 'The connector catalog of this build', tag: 'connectors', auth: 'tenant', query: ConnectorsQuery, response: z.object({ connectors: z.array(ConnectorSummary) }), status: 200 },
  { method: 'post', path: '/api/v1/connections', summary: 'Create a connection', tag: 'connections', auth: 'tenant', body: CreateConnectionBody, response: z.object({ connection: Connection }), status: 201 },
  { method: 'get', path: '/api/v1/connections', summary: 'List connections', tag: 'connections', auth: 'tenant', query: PageQuery, response: list('connections', Connection), status: 200 },
  { method: 'get', path: '/api/v1/connections/{name}', summary: 'Get a connection', tag: 'connections', auth: 'tenant', response: z.object({ connection: Connection }), status: 200 },
  { method: 'patch', path: '/api/v1/connections/{name}', summary: 'Change a connection', tag: 'connections', auth: 'tenant', body: UpdateConnectionBody, response: z.object({ connection: Connection }), status: 200 },
  { method: 'delete', path: '/api/v1/connections/{name}', summary: 'Delete a connection, its accounts and their credentials', tag: 'connections', auth: 'tenant', response: z.object({ name: Name, deleted: z.literal(true) }), status: 200 },
  { method: 'post', path: '/api/v1/connected_accounts', summary: 'Store a static credential for an identifier (201 created, 200 updated)', tag: 'connected_accounts', auth: 'tenant', body: UpsertAccountBody, response: z.object({ connected_account: ConnectedAccount }), status: 201, alsoStatus: 200 },
  { method: 'get', path: '/api/v1/connected_accounts', summary: 'List connected accounts', tag: 'connected_accounts', auth: 'tenant', query: ListAccountsQuery, response: list('connected_accounts', ConnectedAccount), status: 200 },
  { method: 'get', path: '/api/v1/connected_accounts/{id}', summary: 'Get a connected account', tag: 'connected_accounts', auth: 'tenant', response: z.object({ connected_account: ConnectedAccount }), status: 200 },
  { method: 'delete', path: '/api/v1/connected_accounts/{id}', summary: 'Disconnect an account and destroy its credential', tag: 'connected_accounts', auth: 'tenant', response: z.object({ connected_account: ConnectedAccount }), status: 200 },
  { method: 'post', path: '/api/v1/connected_accounts/authorization_link', summary: 'Authorization link for an OAuth connection', tag: 'connected_accounts', auth: 'tenant', body: AuthorizationLinkBody, response: AuthorizationLinkReply, status: 200 },
  { method: 'post', path: '/api/v1/mcp/configs', summary: 'Create an MCP config (a virtual MCP server)', tag: 'mcp_configs', auth: 'tenant', body: ConfigInput, response: z.object({ config: McpConfig }), status: 201 },
  { method: 'get', path: '/api/v1/mcp/configs', summary: 'List MCP configs', tag: 'mcp_configs', auth: 'tenant', query: PageQuery, response: list('configs', McpConfig), status: 200 },
  { method: 'get', path: '/api/v1/mcp/configs/{config_id}', summary: 'Get an MCP config', tag: 'mcp_configs', auth: 'tenant', response: z.object({ config: McpConfig }), status: 200 },
  { method: 'put', path: '/api/v1/mcp/configs/{config_id}', summary: 'Replace an MCP config (connected agents see the change)', tag: 'mcp_configs', auth: 'tenant', body: ConfigInput, response: z.object({ config: McpConfig }), status: 200 },
  { method: 'delete', path: '/api/v1/mcp/configs/{config_id}', summary: 'Delete an MCP config; its URL stops working at once', tag: 'mcp_configs', auth: 'tenant', response: z.object({ config_id: ConfigId, deleted: z.literal(true) }), status: 200 },
  { method: 'post', path: '/api/v1/mcp/configs/{config_id}/tokens', summary: 'Mint a session token for an identifier', tag: 'mcp_configs', auth: 'tenant', body: MintTokenBody, response: z.object({ token: z.string(), token_id: TokenId, expires_at: z.string(), mcp_server_url: z.string() }), status: 201 },
  { method: 'delete', path: '/api/v1/mcp/tokens/{token_id}', summary: 'Revoke a session token on every replica', tag: 'mcp_configs', auth: 'tenant', response: z.object({ token_id: TokenId, revoked: z.literal(true) }), status: 200 },
  { method: 'post', path: '/api/v1/mcp/configs/{config_id}/connected_accounts', summary: "An identifier's account state per connection of a config", tag: 'mcp_configs', auth: 'tenant', body: ConfigAccountsBody, response: z.object({ connected_accounts: z.array(ConfigAccountState.extend({ authentication_link: z.string().optional(), authentication_link_expires_at: z.string().optional() })) }), status: 200 },
  { method: 'get', path: '/api/v1/tools', summary: "The catalog's tool definitions", tag: 'tools', auth: 'tenant', query: ToolsQuery, response: z.object({ tools: z.array(ApiToolDefinition) }), status: 200 },
  { method: 'get', path: '/api/v1/tools/scoped', summary: "What an identifier's agent would see through a config; `unavailable` names the connections whose tools could not be discovered just now", tag: 'tools', auth: 'tenant', query: ScopedToolsQuery, response: z.object({ tools: z.array(ApiToolDefinition), unavailable: z.array(UnavailableConnection) }), status: 200 },
  { method: 'post', path: '/api/v1/execute_tool', summary: 'Run one tool for an identifier through the same policy, vault and audit path as an MCP call', tag: 'tools', auth: 'tenant', body: ExecuteToolBody, response: ExecuteToolReply, status: 200 },
  { method: 'get', path: '/api/v1/tool_call_logs', summary: 'Audit entries, newest first', tag: 'audit', auth: 'tenant', query: ListLogsQuery, response: list('tool_call_logs', ToolCallLog), status: 200 },
  { method: 'get', path: '/api/v1/tool_call_logs/export', summary: 'Audit entries matching the filters as NDJSON, newest first, streamed', tag: 'audit', auth: 'tenant', query: ExportLogsQuery, response: ToolCallLog, status: 200, produces: 'application/x-ndjson' },
  { method: 'get', path: '/api/v1/tool_call_logs/{execution_id}', summary: 'One audit entry', tag: 'audit', auth: 'tenant', response: z.object({ tool_call_log: ToolCallLog }), status: 200 },
  { method: 'get', path: '/api/v1/audit/verify', summary: "Verify the tenant's audit hash chain", tag: 'audit', auth: 'tenant', query: VerifyAuditQuery, response: ChainVerification, status: 200 },
  { method: 'get', path: '/api/v1/audit/settings', summary: "The tenant's audit settings (retention)", tag: 'audit', auth: 'tenant', response: z.object({ settings: AuditSettings }), status: 200 },
  { method: 'put', path: '/api/v1/audit/settings', summary: 'Set how many days audit entries are kept (1-3650, default 90)', tag: 'audit', auth: 'tenant', body: PutAuditSettingsBody, response: z.object({ settings: AuditSettings }), status: 200 },
  { method: 'put', path: '/api/v1/webhook', summary: "Set the tenant's webhook; the signing secret is returned on creation only", tag: 'webhooks', auth: 'tenant', body: PutWebhookBody, response: z.object({ webhook: Webhook, signing_secret: SigningSecret.optional() }), status: 200 },
  { method: 'get', path: '/api/v1/webhook', summary: "The tenant's webhook (never its secret)", tag: 'webhooks', auth: 'tenant', response: z.object({ webhook: Webhook }), status: 200 },
  { method: 'delete', path: '/api/v1/webhook', summary: 'Remove the webhook; events are no longer delivered', tag: 'webhooks', auth: 'tenant', response: z.object({ deleted: z.literal(true) }), status: 200 },
  { method: 'post', path: '/api/v1/webhook/rotate_secret', summary: 'Replace the signing secret (shown once); the old one stops at once', tag: 'webhooks', auth: 'tenant', response: z.object({ webhook: Webhook, signing_secret: SigningSecret }), status: 200 },
  { method: 'post', path: '/api/v1/key_rotations', summary: 'Start a master-key rotation (admin) or a tenant data-key rotation; runs in the background', tag: 'key_rotations', auth: 'admin_or_tenant', body: StartKeyRotationBody, response: z.object({ key_rotation: KeyRotation }), status: 202 },
  { method: 'get', path: '/api/v1/key_rotations', summary: 'Key rotations and their progress, newest first', tag: 'key_rotations', auth: 'admin_or_tenant', query: ListKeyRotationsQuery, response: list('key_rotations', KeyRotation), status: 200 },
  { method: 'get', path: '/api/v1/key_rotations/{id}', summary: 'One key rotation: status, done and total', tag: 'key_rotations', auth: 'admin_or_tenant', response: z.object({ key_rotation: KeyRotation }), status: 200 },
  { method: 'get', path: '/healthz', summary: 'Process is up', tag: 'health', auth: 'none', response: z.object({ status: z.string() }), status: 200 },
  { method: 'get', path: '/readyz', summary: 'NATS connected and every service answering', tag: 'health', auth: 'none', response: z.object({ status: z.string(), checks: z.record(z.string(), z.boolean()) }), status: 200 },
];

export { ErrorReply as ApiErrorReply };
