import { z } from 'zod';
import { ErrorCode } from './errors.js';
import { AccountId, ConfigId, ConnectionId, TenantId } from './ids.js';

/** `name`, `connection_name`: lower-case, unique per tenant (API.md). */
export const Name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must match ^[a-z0-9][a-z0-9_-]{0,63}$');
/** The end user a session token or connected account belongs to: 1 to 255 characters. */
export const Identifier = z.string().min(1).max(255);
/** RFC 3339 UTC timestamp with milliseconds, e.g. 2026-11-24T10:00:00.000Z. */
export const Timestamp = z.string().max(40);

export const PageSize = z.coerce.number().int().min(1).max(200).default(50);
export const PageToken = z.string().max(512);
export const PageRequest = z.object({
  page_size: PageSize,
  page_token: PageToken.optional(),
});

export const AuthType = z.enum(['oauth2', 'api_key', 'bearer_token', 'basic', 'custom_headers', 'none']);
export type AuthType = z.infer<typeof AuthType>;
/** Auth types whose credential is posted once as `static_auth`. */
export const STATIC_AUTH_TYPES = ['api_key', 'bearer_token', 'basic', 'custom_headers'] as const;

export const AccountStatus = z.enum(['ACTIVE', 'PENDING_AUTH', 'EXPIRED', 'DISCONNECTED']);
export type AccountStatus = z.infer<typeof AccountStatus>;

const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, 'must be an HTTP header name');
const HeaderValue = z
  .string()
  .min(1)
  .max(8192)
  .regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'must not contain control characters');

/** Header names a connection may never set upstream: they belong to the transport or to us. */
export const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'mcp-session-id',
  'mcp-protocol-version',
  'accept',
]);

export const CustomHeaders = z
  .record(HeaderName, HeaderValue)
  .refine((h) => Object.keys(h).length >= 1 && Object.keys(h).length <= 32, 'must have 1 to 32 headers')
  .refine((h) => Object.keys(h).every((k) => !RESERVED_HEADERS.has(k.toLowerCase())), 'sets a reserved header');

/** A credential as posted by the tenant: exactly one shape per auth type. */
export const StaticAuth = z.union([
  z.strictObject({ token: z.string().min(1).max(8192) }),
  z.strictObject({ api_key: z.string().min(1).max(8192) }),
  z.strictObject({ username: z.string().min(1).max(1024), password: z.string().max(4096) }),
  z.strictObject({ headers: CustomHeaders }),
]);
export type StaticAuth = z.infer<typeof StaticAuth>;

/** Which `static_auth` shape each auth type takes. */
export function staticAuthMatches(authType: AuthType, auth: StaticAuth): boolean {
  switch (authType) {
    case 'bearer_token':
      return 'token' in auth;
    case 'api_key':
      return 'api_key' in auth;
    case 'basic':
      return 'username' in auth;
    case 'custom_headers':
      return 'headers' in auth;
    case 'oauth2':
    case 'none':
      return false;
  }
}

export const OAuthSettings = z.strictObject({
  client_id: z.string().min(1).max(512),
  client_secret: z.string().min(1).max(4096).optional(),
  scopes: z.array(z.string().min(1).max(256)).max(64).default([]),
  authorize_url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  token_url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  /** RFC 7009 endpoint; when set, disconnecting an account revokes its tokens there. */
  revocation_url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  /** The authorization server's issuer, checked against `iss` in callbacks (RFC 9207); default: the authorize URL's origin. */
  issuer: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'none']).optional(),
});

/**
 * `settings.openapi`: an OpenAPI document or `{url}`. Any JSON object here, so that the
 * openapi connector, which knows the format, says what is wrong with one.
 */
export const OpenApiSetting = z.record(z.string(), z.unknown());

/** Connection settings as the tenant posts them. */
/** How long one tool call may take, in ms (the executor stops it and answers DEADLINE_EXCEEDED). */
export const Deadline = z.number().int().min(100).max(300_000);
const ToolDeadlines = z
  .record(z.string().regex(/^[A-Za-z0-9_.\-/]{1,128}$/, 'tool names: 1-128 of A-Z a-z 0-9 _ - . /'), Deadline)
  .refine((m) => Object.keys(m).length <= 1000, 'at most 1000 tools');

export const ConnectionSettingsInput = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  base_url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  header_name: HeaderName.optional(),
  timeout_ms: Deadline.optional(),
  /** Per-tool deadlines (the connector's tool names), over `timeout_ms`. */
  tool_timeouts_ms: ToolDeadlines.optional(),
  oauth: OAuthSettings.optional(),
  /**
   * The `openapi` connector's API: an OpenAPI 3.0/3.1 document inline (a JSON object), or
   * `{"url": "https://…/openapi.json"}` for the executor to fetch. The connector checks it.
   */
  openapi: OpenApiSetting.optional(),
});
export type ConnectionSettingsInput = z.infer<typeof ConnectionSettingsInput>;

/** Settings as they are shown and sent around: secrets replaced by a flag. */
export const ConnectionSettings = z.object({
  url: z.string().optional(),
  base_url: z.string().optional(),
  header_name: z.string().optional(),
  timeout_ms: z.number().int().optional(),
  tool_timeouts_ms: z.record(z.string(), z.number().int()).optional(),
  oauth: z
    .object({
      client_id: z.string(),
      client_secret_set: z.boolean(),
      scopes: z.array(z.string()),
      authorize_url: z.string().optional(),
      token_url: z.string().optional(),
      revocation_url: z.string().optional(),
      issuer: z.string().optional(),
      token_endpoint_auth_method: z.string().optional(),
    })
    .optional(),
  openapi: OpenApiSetting.optional(),
});
export type ConnectionSettings = z.infer<typeof ConnectionSettings>;

export const Tenant = z.object({ id: TenantId, name: Name, created_at: Timestamp });
export type Tenant = z.infer<typeof Tenant>;

export const Connection = z.object({
  id: ConnectionId,
  name: Name,
  connector: z.string(),
  auth_type: AuthType,
  settings: ConnectionSettings,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Connection = z.infer<typeof Connection>;

export const ConnectedAccount = z.object({
  id: AccountId,
  connection_name: Name,
  identifier: Identifier,
  auth_type: AuthType,
  status: AccountStatus,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type ConnectedAccount = z.infer<typeof ConnectedAccount>;

/** A tool name as an MCP client sees it (SEP-986 charset, generous length). */
export const ToolName = z.string().regex(/^[A-Za-z0-9_.\-/]{1,128}$/, 'must be 1-128 of A-Z a-z 0-9 _ - . /');
export const ToolPrefix = z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'must be 1-32 of A-Z a-z 0-9 _ - .');

export const ToolMappingInput = z.strictObject({
  connection_name: Name,
  /** Tool names as the connector names them; ["*"] is the explicit opt-in to all. */
  tools: z
    .array(z.union([z.literal('*'), ToolName]))
    .min(1, 'must name at least one tool, or ["*"] for all')
    .max(1000)
    .refine((t) => !t.includes('*') || t.length === 1, '"*" must be the only entry when used'),
  /** Prepended to every tool name of this connection, to avoid clashes between connections. */
  prefix: ToolPrefix.optional(),
  /** This config's deadline for every tool of the mapping, over the connection's. */
  timeout_ms: Deadline.optional(),
  /** This config's per-tool deadlines (the connector's tool names), over everything else. */
  tool_timeouts_ms: ToolDeadlines.optional(),
});

export const ToolMapping = z.object({
  connection_name: Name,
  connection_id: ConnectionId,
  connector: z.string(),
  tools: z.array(z.string()),
  prefix: z.string().optional(),
  timeout_ms: z.number().int().optional(),
  tool_timeouts_ms: z.record(z.string(), z.number().int()).optional(),
});
export type ToolMapping = z.infer<typeof ToolMapping>;

/** A config's audit options as posted. */
export const ConfigAuditInput = z.strictObject({
  /** Store the call's arguments and result in its audit entry (secret-looking values redacted); default false: sizes and SHA-256 only. */
  capture_payloads: z.boolean(),
});
export const ConfigAudit = z.object({ capture_payloads: z.boolean() });

/**
 * Which requests an upstream may put to the agent during a call of this config, when the
 * agent declared it can answer them: `sampling/createMessage` (the agent's model) and
 * `elicitation/create` (its user). As posted: a request not named is allowed on create and
 * keeps its setting on replace.
 */
export const ConfigClientRequestsInput = z.strictObject({
  sampling: z.boolean().optional(),
  elicitation: z.boolean().optional(),
});
/** A config's client requests as stored and shown: each allowed or not. */
export const ConfigClientRequests = z.object({ sampling: z.boolean(), elicitation: z.boolean() });
export type ConfigClientRequests = z.infer<typeof ConfigClientRequests>;

export const McpConfig = z.object({
  id: ConfigId,
  name: Name,
  description: z.string().nullable(),
  connection_tool_mappings: z.array(ToolMapping),
  audit: ConfigAudit,
  client_requests: ConfigClientRequests,
  mcp_server_url: z.string(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type McpConfig = z.infer<typeof McpConfig>;

/**
 * An MCP tool definition, as the upstream or connector publishes it. Unknown fields
 * (title, icons, _meta, execution, …) pass through unchanged.
 */
export const ToolDefinition = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  inputSchema: z.looseObject({ type: z.literal('object') }),
  outputSchema: z.looseObject({ type: z.literal('object') }).optional(),
  annotations: z.looseObject({}).optional(),
});
export type ToolDefinition = z.infer<typeof ToolDefinition>;

/** What the executor needs to reach a connection: no secret is part of it. */
export const ConnectionTarget = z.object({
  id: ConnectionId,
  name: Name,
  connector: z.string(),
  auth_type: AuthType,
  settings: ConnectionSettings,
});
export type ConnectionTarget = z.infer<typeof ConnectionTarget>;

export const TenantScoped = z.object({ tenant_id: TenantId });
export const Ok = z.object({ ok: z.literal(true) });

/**
 * A mapped connection whose tools could not be discovered for this user just now (its
 * upstream down, slow or refusing): its tools are missing from the list, for that answer only.
 */
export const UnavailableConnection = z.object({
  connection_name: Name,
  code: ErrorCode,
  message: z.string().max(2000),
});
export type UnavailableConnection = z.infer<typeof UnavailableConnection>;
