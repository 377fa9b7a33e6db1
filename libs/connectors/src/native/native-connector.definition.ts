import { ToolName, type AuthType, type ConnectionSettingsInput, type ConnectionTarget, type ToolDefinition } from '@vmcp/contracts';
import type { ConnectorInfo } from '../catalog.js';
import type { ProviderHttp, ProviderHttpConfig } from '../http/provider-http.js';
import { parseBaseUrl } from '../http/url.js';

export const JSON_SCHEMA_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/** A JSON Schema document or sub-schema, as plain data. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/**
 * MCP tool annotations, every hint stated: clients decide on them (confirm before a
 * destructive call, retry an idempotent one), so each must be true of the operation.
 */
export interface ToolAnnotations {
  /** The tool changes nothing. */
  readonly readOnlyHint: boolean;
  /** It may delete or overwrite (meaningful when not read-only). */
  readonly destructiveHint: boolean;
  /** Calling it again with the same arguments changes nothing more. */
  readonly idempotentHint: boolean;
  /** It reaches outside vmcp (always true for a provider API). */
  readonly openWorldHint: boolean;
}

/**
 * The usual annotation sets. `create`: adds something new each call (a POST). `update`:
 * overwrites with the given values, so repeating it changes nothing more. `remove`: deletes.
 */
export const ANNOTATIONS = {
  read: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  create: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  update: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  remove: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
} as const satisfies Record<string, ToolAnnotations>;

/** What a tool implementation may know about its call besides its arguments. */
export interface NativeToolContext {
  readonly connection: ConnectionTarget;
}

/**
 * One tool of a native connector. `Args` is the shape its input schema guarantees: policy
 * validates every call's arguments against `inputSchema` before the executor runs it.
 */
export interface NativeTool<Args = Record<string, unknown>> {
  /** `<connector id>_<verb>_<object>`, e.g. `github_list_issues`. */
  readonly name: string;
  readonly title?: string;
  /** Written for a model: what it does, when to use it, what it returns. */
  readonly description: string;
  /** JSON Schema 2020-12: `$schema` set, `type: "object"`, `additionalProperties: false`. */
  readonly inputSchema: JsonSchema;
  /** The shape of the structured result, when the tool returns one (an object). */
  readonly outputSchema?: JsonSchema;
  readonly annotations: ToolAnnotations;
  /**
   * Calls the provider and returns the result: an object matching `outputSchema` (sent as
   * structuredContent plus a JSON text block), else a string or any JSON value (a text block).
   * Throw ToolError for a problem the model can fix; provider errors are mapped for you.
   */
  run(args: Args, http: ProviderHttp, ctx: NativeToolContext): Promise<unknown>;
}

/** A tool of any argument type, as the connector holds them. */
export type AnyNativeTool = NativeTool<never>;

/** What a connector folder declares. */
export interface NativeConnectorSpec {
  /** Catalog id, lower case; every tool name starts with `<id>_`. */
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly auth_types: readonly AuthType[];
  /** The provider's OAuth endpoints and default scopes, when `oauth2` is offered. */
  readonly oauth?: ConnectorInfo['oauth'];
  /**
   * The API base when the connection sets no `settings.base_url`; a function for hosts that
   * depend on the connection. The base URL's path is kept (`https://ghe.example.com/api/v3`).
   */
  readonly baseUrl: string | ((connection: ConnectionTarget) => string | undefined);
  readonly http: ProviderHttpConfig;
  readonly tools: readonly AnyNativeTool[];
  /** Checks of connection settings beyond the common ones (a required base_url, …). */
  readonly validateSettings?: (settings: ConnectionSettingsInput, authType: AuthType) => string | undefined;
}

/** A checked connector definition: its catalog entry and its tools by name. */
export interface NativeConnectorDefinition extends NativeConnectorSpec {
  readonly info: ConnectorInfo & { readonly tools: readonly ToolDefinition[] };
  tool(name: string): AnyNativeTool | undefined;
}

/** Types a tool's arguments; returns the tool unchanged. */
export function defineTool<Args>(tool: NativeTool<Args>): AnyNativeTool {
  return tool as unknown as AnyNativeTool;
}

/**
 * Declares a native connector: checked when the module loads (names, schemas, annotations),
 * so a malformed definition fails every test instead of reaching a client.
 */
export function defineNativeConnector(spec: NativeConnectorSpec): NativeConnectorDefinition {
  const problems = checkSpec(spec);
  if (problems.length > 0) throw new Error(`connector ${spec.id}: ${problems.join('; ')}`);
  const byName = new Map(spec.tools.map((t) => [t.name, t]));
  const tools: ToolDefinition[] = spec.tools.map((t) => ({
    name: t.name,
    ...(t.title ? { title: t.title } : {}),
    description: t.description,
    inputSchema: t.inputSchema as ToolDefinition['inputSchema'],
    ...(t.outputSchema ? { outputSchema: t.outputSchema as NonNullable<ToolDefinition['outputSchema']> } : {}),
    annotations: { ...t.annotations },
  }));
  const info: NativeConnectorDefinition['info'] = {
    id: spec.id,
    name: spec.name,
    description: spec.description,
    auth_types: spec.auth_types,
    dynamic_tools: false,
    ...(spec.oauth ? { oauth: spec.oauth } : {}),
    tools,
    validateSettings: (settings, authType) => nativeSettingsProblem(spec, settings) ?? spec.validateSettings?.(settings, authType),
  };
  return { ...spec, info, tool: (name) => byName.get(name) };
}

function nativeSettingsProblem(spec: NativeConnectorSpec, settings: ConnectionSettingsInput): string | undefined {
  if (settings.url) return `settings.url is for the mcp connector; connector ${spec.id} takes settings.base_url (optional)`;
  if (settings.base_url) {
    try {
      parseBaseUrl(settings.base_url);
    } catch (err) {
      return `settings.base_url: ${(err as Error).message}`;
    }
  }
  return undefined;
}

function checkSpec(spec: NativeConnectorSpec): string[] {
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9_]{1,31}$/.test(spec.id)) problems.push('id must be 2-32 of a-z 0-9 _');
  if (spec.auth_types.includes('oauth2') && !spec.oauth) problems.push('oauth2 needs the provider\'s oauth endpoints and default scopes');
  if (typeof spec.baseUrl === 'string') {
    try {
      parseBaseUrl(spec.baseUrl);
    } catch (err) {
      problems.push(`baseUrl: ${(err as Error).message}`);
    }
  }
  const seen = new Set<string>();
  for (const t of spec.tools) {
    const where = `tool ${t.name}`;
    if (seen.has(t.name)) problems.push(`${where} is defined twice`);
    seen.add(t.name);
    if (!t.name.startsWith(`${spec.id}_`) || !/^[a-z0-9_]{1,64}$/.test(t.name) || !ToolName.safeParse(t.name).success) {
      problems.push(`${where}: name must be ${spec.id}_<name>, at most 64 of a-z 0-9 _`);
    }
    if (!t.description || t.description.length < 20) problems.push(`${where}: needs a description written for a model`);
    problems.push(...checkObjectSchema(t.inputSchema, `${where} inputSchema`, true));
    if (t.outputSchema) problems.push(...checkObjectSchema(t.outputSchema, `${where} outputSchema`, false));
    for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) {
      if (typeof t.annotations?.[hint] !== 'boolean') problems.push(`${where}: annotations.${hint} must be stated`);
    }
    if (t.annotations?.readOnlyHint && t.annotations.destructiveHint) problems.push(`${where}: a read-only tool cannot be destructive`);
  }
  return problems;
}

function checkObjectSchema(schema: JsonSchema, where: string, closed: boolean): string[] {
  const problems: string[] = [];
  if (schema.$schema !== JSON_SCHEMA_2020_12) problems.push(`${where}: $schema must be ${JSON_SCHEMA_2020_12}`);
  if (schema.type !== 'object') problems.push(`${where}: type must be "object"`);
  if (closed && schema.additionalProperties !== false) problems.push(`${where}: additionalProperties must be false`);
  return problems;
}
