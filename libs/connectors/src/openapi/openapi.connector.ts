import { isVmcpError, VmcpError, type CallToolResult, type StaticAuth, type ToolDefinition } from '@vmcp/contracts';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { buildAuthHeaders, credentialStrings, DEFAULT_API_KEY_HEADER } from '../auth-headers.js';
import type { CacheScope, CallToolOptions, Connector, ConnectorContext, ConnectorDeps, CredentialRequest, ListToolsOptions, ResolvedCredential } from '../connector.js';
import { CredentialRefusedError, ToolError } from '../http/provider-errors.js';
import { DEFAULT_MAX_RESPONSE_BYTES, ProviderHttpClient, ProviderHttpVerbs, type ProviderHttp, type ProviderRequest, type RequestCredential } from '../http/provider-http.js';
import type { RetryPolicy } from '../http/retry.js';
import { parseBaseUrl } from '../http/url.js';
import { defineTool, type AnyNativeTool } from '../native/native-connector.definition.js';
import { failureOutcome, toToolResult } from '../native/tool-outcome.js';
import { Deadline, StoppedError } from '../shared/deadline.js';
import { compileOpenApi, type ApiKeyPlacement, type CompiledApi, type CompiledOperation } from './openapi-compile.js';
import { DocumentError } from './openapi-document.js';
import { answerValue, buildRequest } from './openapi-request.js';
import { documentSource, DocumentFetchError, fetchDocument, MAX_INLINE_DOCUMENT_BYTES } from './openapi-source.js';

// ajv ships CommonJS with its classes on `.default`; require keeps that unambiguous under ESM.
const require = createRequire(import.meta.url);
const Ajv2020 = (require('ajv/dist/2020') as { default: typeof import('ajv/dist/2020.js').default }).default;
const addFormats = (require('ajv-formats') as { default: typeof import('ajv-formats').default }).default;

export interface OpenApiConnectorOptions {
  /** How long a fetched document is used before it is fetched again (default 5 minutes). */
  readonly documentTtlMs?: number;
  /** Budget of fetching a document, whoever waits for it (default 10 s). */
  readonly fetchTimeoutMs?: number;
  /** Documents (compiled) kept in memory at most (default 200); the oldest goes first. */
  readonly maxCachedDocuments?: number;
  readonly maxResponseBytes?: number;
  readonly retry?: Partial<RetryPolicy>;
}

/** One connection's document, compiled, with what its calls need. */
interface LoadedApi {
  readonly compiled: CompiledApi;
  /** Where a fetched document came from: relative server URLs resolve against it. */
  readonly documentUrl: URL | undefined;
  readonly tools: Map<string, AnyNativeTool>;
  validator?: InstanceType<typeof Ajv2020>;
}

interface CachedApi {
  readonly tenantId: string;
  readonly connectionId: string;
  readonly expires: number;
  readonly api: Promise<LoadedApi>;
}

/** The credential of one call, and where the document's API key scheme puts it besides headers. */
interface CallCredential {
  readonly request: RequestCredential;
  readonly query?: Readonly<Record<string, string>>;
  readonly cookie?: string;
}

const NO_CREDENTIAL: CallCredential = { request: { headers: () => ({}), secrets: () => [], refused: async () => false } };
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The `openapi` connector: a connection's OpenAPI 3.0/3.1 document (inline in
 * `settings.openapi`, or fetched from `settings.openapi.url` and cached) becomes its tools,
 * one per operation. Calls go through the provider HTTP client every native connector uses
 * (deadline, retries of idempotent operations with Retry-After, 401 refresh, size limit,
 * error mapping), with the user's credential placed as the document's security scheme says.
 * Credentials are resolved per call and never kept.
 */
export class OpenApiConnector implements Connector {
  readonly id = 'openapi';
  /** Nothing is held between calls: credentials are resolved per call. */
  readonly sessions = 0;
  private readonly apis = new Map<string, CachedApi>();

  constructor(
    private readonly deps: ConnectorDeps,
    private readonly options: OpenApiConnectorOptions = {},
  ) {}

  async listTools(ctx: ConnectorContext, options: ListToolsOptions = {}): Promise<ToolDefinition[]> {
    const deadline = Deadline.after(options.timeoutMs ?? 30_000, options.signal);
    const api = await this.load(ctx, deadline);
    return api.compiled.tools.map((t) => ({ ...t }));
  }

  async callTool(ctx: ConnectorContext, name: string, args: Record<string, unknown>, options: CallToolOptions): Promise<CallToolResult> {
    const deadline = Deadline.after(options.timeoutMs, options.signal);
    const api = await this.load(ctx, deadline);
    const op = api.compiled.operations.get(name);
    const tool = op && this.tool(api, op);
    if (!op || !tool) throw new VmcpError('TOOL_NOT_FOUND', `Tool "${name.slice(0, 128)}" not found`);
    const { connection } = ctx;
    const provider = api.compiled.title;
    const maxResponseBytes = this.options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    try {
      const baseUrl = this.baseUrl(ctx, api);
      const credential = op.anonymous ? NO_CREDENTIAL : await this.credential(ctx, op, deadline);
      const client = new ProviderHttpClient({
        baseUrl,
        config: { provider, headers: { 'User-Agent': 'vmcp' }, maxResponseBytes, ...(this.options.retry ? { retry: this.options.retry } : {}) },
        credential: credential.request,
        deadline,
        idempotentTool: op.annotations.idempotentHint,
      });
      const http = credential.query || credential.cookie ? new KeyedHttp(client, credential) : client;
      return toToolResult(tool, await deadline.race(tool.run(args as never, http, { connection })));
    } catch (err) {
      if (err instanceof CredentialRefusedError) {
        // No credential was sent, so no account is to blame.
        if (op.anonymous) return unauthorized(`${provider} answered HTTP 401, though its OpenAPI document says ${name} takes no credential`);
        if (connection.auth_type === 'none') return unauthorized(`${provider} answered HTTP 401: connection "${connection.name}" sends no credential (auth_type none)`);
        // Let policy mark the account EXPIRED, so tools/list stops offering it.
        if (ctx.accountId) this.deps.onCredentialRefused?.({ tenantId: ctx.tenantId, connectionId: connection.id, accountId: ctx.accountId });
      }
      return failureOutcome(err, { provider, connectionName: connection.name, authType: connection.auth_type, tool, maxResponseBytes });
    }
  }

  forget(scope: CacheScope): void {
    // Documents are the connection's; accounts change nothing here (no credential is kept).
    if ('accountId' in scope) return;
    for (const [key, c] of this.apis) {
      if ('connectionId' in scope ? c.connectionId === scope.connectionId : c.tenantId === scope.tenantId) this.apis.delete(key);
    }
  }

  async close(): Promise<void> {
    this.apis.clear();
  }

  /**
   * The connection's compiled document: inline ones compiled once per content, fetched ones
   * once per TTL (one fetch however many calls wait for it; a failure is not kept).
   */
  private async load(ctx: ConnectorContext, deadline: Deadline): Promise<LoadedApi> {
    const { connection } = ctx;
    const source = documentSource(connection.settings.openapi);
    if (typeof source === 'string') throw new VmcpError('FAILED_PRECONDITION', `connection "${connection.name}": ${source}`);
    const key =
      source.kind === 'url'
        ? `url|${ctx.tenantId}|${connection.id}|${source.url.href}`
        : `inline|${ctx.tenantId}|${connection.id}|${createHash('sha256').update(JSON.stringify(source.document)).digest('base64url')}`;
    const now = Date.now();
    let cached = this.apis.get(key);
    if (!cached || cached.expires <= now) {
      const api = source.kind === 'url' ? this.fetchAndCompile(source.url) : Promise.resolve().then(() => loaded(compileInline(source.document), undefined));
      const ttl = source.kind === 'url' ? (this.options.documentTtlMs ?? 5 * 60_000) : Infinity;
      cached = { tenantId: ctx.tenantId, connectionId: connection.id, expires: now + ttl, api };
      this.remember(key, cached);
      api.catch(() => this.apis.get(key)?.api === api && this.apis.delete(key));
    }
    try {
      return await deadline.race(cached.api);
    } catch (err) {
      throw documentProblem(err, connection.name);
    }
  }

  private async fetchAndCompile(url: URL): Promise<LoadedApi> {
    const fetched = await fetchDocument(url, { signal: AbortSignal.timeout(this.options.fetchTimeoutMs ?? 10_000) });
    return loaded(compileOpenApi(fetched.document), fetched.url);
  }

  private remember(key: string, cached: CachedApi): void {
    this.apis.delete(key);
    this.apis.set(key, cached);
    const max = this.options.maxCachedDocuments ?? 200;
    for (const oldest of this.apis.keys()) {
      if (this.apis.size <= max) break;
      this.apis.delete(oldest);
    }
  }

  /** `settings.base_url`, else the document's first server (a relative one against the document's URL). */
  private baseUrl(ctx: ConnectorContext, api: LoadedApi): URL {
    const { connection } = ctx;
    const server = api.compiled.server ?? (api.documentUrl ? '/' : undefined);
    let raw = connection.settings.base_url;
    if (!raw && server !== undefined) {
      if (URL.canParse(server)) raw = server;
      else if (api.documentUrl) raw = new URL(server, api.documentUrl).toString();
    }
    if (!raw) throw new VmcpError('FAILED_PRECONDITION', `connection "${connection.name}" needs settings.base_url: its document names no absolute server URL`);
    try {
      return parseBaseUrl(raw);
    } catch (err) {
      throw new VmcpError('FAILED_PRECONDITION', `connection "${connection.name}": ${(err as Error).message}`);
    }
  }

  /**
   * The call's credential, placed as the connection's auth type and the operation's security
   * scheme say: `Authorization` for bearer, OAuth and basic; an API key where the document's
   * apiKey scheme puts it (header, query or cookie), unless `settings.header_name` names a
   * header. On a 401 an OAuth token is refreshed once (the vault is told which was refused).
   */
  private async credential(ctx: ConnectorContext, op: CompiledOperation, deadline: Deadline): Promise<CallCredential> {
    const { connection } = ctx;
    const authType = connection.auth_type;
    if (authType === 'none') return NO_CREDENTIAL;
    if (!ctx.accountId || !ctx.grant) throw new VmcpError('ACCOUNT_NOT_ACTIVE', `connection "${connection.name}" needs a connected account`);
    const account: CredentialRequest = { tenantId: ctx.tenantId, accountId: ctx.accountId, grant: ctx.grant };
    const resolved = await this.resolve(ctx, account, deadline);

    if (authType === 'api_key') {
      const placement: ApiKeyPlacement = connection.settings.header_name
        ? { in: 'header', name: connection.settings.header_name }
        : (op.apiKey ?? { in: 'header', name: DEFAULT_API_KEY_HEADER });
      if (placement.in !== 'header') {
        const key = 'api_key' in resolved.secret ? resolved.secret.api_key : undefined;
        if (!key || !HEADER_VALUE.test(key)) throw new VmcpError('FAILED_PRECONDITION', `connection "${connection.name}": stored credential does not fit auth type api_key`);
        const secrets = credentialStrings(resolved.secret, {});
        const request: RequestCredential = { headers: () => ({}), secrets: () => secrets, refused: async () => false };
        return placement.in === 'query' ? { request, query: { [placement.name]: key } } : { request, cookie: `${placement.name}=${encodeURIComponent(key)}` };
      }
      return { request: staticCredential(connection.name, authType, resolved.secret, placement.name) };
    }
    if (authType !== 'oauth2') return { request: staticCredential(connection.name, authType, resolved.secret, connection.settings.header_name) };

    let current = resolved;
    let headers = authHeaders(connection.name, authType, current.secret);
    const seen = new Set(credentialStrings(current.secret, headers));
    return {
      request: {
        headers: () => headers,
        secrets: () => [...seen],
        refused: async () => {
          const token = 'token' in current.secret ? current.secret.token : undefined;
          if (!token) return false;
          current = await this.resolve(ctx, { ...account, rejectedToken: token }, deadline);
          const before = headers;
          headers = authHeaders(connection.name, authType, current.secret);
          for (const s of credentialStrings(current.secret, headers)) seen.add(s);
          return JSON.stringify(headers) !== JSON.stringify(before);
        },
      },
    };
  }

  private async resolve(ctx: ConnectorContext, request: CredentialRequest, deadline: Deadline): Promise<ResolvedCredential> {
    let resolved: ResolvedCredential;
    try {
      resolved = await deadline.race(this.deps.resolveCredential(request));
    } catch (err) {
      // The vault's codes (NOT_FOUND, ACCOUNT_NOT_ACTIVE, UNAVAILABLE, …) reach the caller as they are.
      if (isVmcpError(err) || err instanceof StoppedError) throw err;
      throw new VmcpError('UNAVAILABLE', 'the credential could not be resolved');
    }
    if (resolved.auth_type !== ctx.connection.auth_type) {
      throw new VmcpError('FAILED_PRECONDITION', `the connected account's credential is for ${resolved.auth_type}, connection "${ctx.connection.name}" uses ${ctx.connection.auth_type}`);
    }
    return resolved;
  }

  /** The operation as a tool: its definition, and a run that sends its request and reads the answer. */
  private tool(api: LoadedApi, op: CompiledOperation): AnyNativeTool {
    const name = op.definition.name;
    let tool = api.tools.get(name);
    if (tool) return tool;
    const { title } = api.compiled;
    const outputSchema = op.definition.outputSchema;
    let validate: ValidateFunction | undefined;
    tool = defineTool<Record<string, unknown>>({
      name,
      description: op.definition.description ?? '',
      inputSchema: op.definition.inputSchema,
      ...(outputSchema ? { outputSchema } : {}),
      annotations: op.annotations,
      run: async (args, http) => {
        const response = await http.request<string>(buildRequest(op, args));
        const value = answerValue(response.body, response.headers.get('content-type'));
        if (outputSchema) {
          // MCP clients check structured results against the output schema; an answer that does not fit is said so.
          api.validator ??= addFormats(new Ajv2020({ strict: false, allErrors: false, validateSchema: false }));
          validate ??= api.validator.compile(outputSchema);
          if (typeof value === 'object' && value !== null && !Array.isArray(value) && validate(value)) return value;
          const why = validate.errors?.[0] ? `${validate.errors[0].instancePath || '(root)'} ${validate.errors[0].message ?? ''}`.trim() : 'not a JSON object';
          const text = typeof response.body === 'string' && response.body.trim() ? `; the answer: ${response.body.slice(0, 2000)}` : '';
          throw new ToolError(`${title} answered HTTP ${response.status}, but not with the JSON object its OpenAPI document describes (${why})${text}`);
        }
        return value === undefined ? `${title} answered HTTP ${response.status} with no content.` : value;
      },
    });
    api.tools.set(name, tool);
    return tool;
  }
}

/** Sends the API key in the query or a cookie, as the document's apiKey scheme says. */
class KeyedHttp extends ProviderHttpVerbs {
  readonly baseUrl: URL;

  constructor(
    private readonly inner: ProviderHttp,
    private readonly key: CallCredential,
  ) {
    super();
    this.baseUrl = inner.baseUrl;
  }

  request<T>(request: ProviderRequest) {
    const headers = { ...request.headers };
    if (this.key.cookie) headers.Cookie = headers.Cookie ? `${headers.Cookie}; ${this.key.cookie}` : this.key.cookie;
    // The key last: an argument of the same name cannot replace it.
    return this.inner.request<T>({ ...request, headers, query: { ...request.query, ...this.key.query } });
  }
}

function unauthorized(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

function loaded(compiled: CompiledApi, documentUrl: URL | undefined): LoadedApi {
  return { compiled, documentUrl, tools: new Map() };
}

function compileInline(document: Readonly<Record<string, unknown>>): CompiledApi {
  if (Buffer.byteLength(JSON.stringify(document)) > MAX_INLINE_DOCUMENT_BYTES) {
    throw new DocumentError(`an inline document is at most ${MAX_INLINE_DOCUMENT_BYTES / 1024} KiB; serve a larger one and give settings.openapi.url`);
  }
  return compileOpenApi(document);
}

function authHeaders(connectionName: string, authType: ResolvedCredential['auth_type'], secret: StaticAuth, headerName?: string): Record<string, string> {
  try {
    return buildAuthHeaders(authType, secret, headerName);
  } catch (err) {
    // The message names the problem (auth type, header name), never a value.
    throw new VmcpError('FAILED_PRECONDITION', `connection "${connectionName}": ${(err as Error).message}`);
  }
}

/** A static credential (API key in a header, bearer token, basic, custom headers): a 401 is final. */
function staticCredential(connectionName: string, authType: ResolvedCredential['auth_type'], secret: StaticAuth, headerName?: string): RequestCredential {
  const headers = authHeaders(connectionName, authType, secret, headerName);
  const secrets = credentialStrings(secret, headers);
  return { headers: () => headers, secrets: () => secrets, refused: async () => false };
}

/** What a document that cannot be read or used becomes for the caller. */
function documentProblem(err: unknown, connectionName: string): unknown {
  if (err instanceof DocumentError) return new VmcpError('FAILED_PRECONDITION', `connection "${connectionName}": its OpenAPI document cannot be used: ${err.message}`);
  if (err instanceof DocumentFetchError) return new VmcpError('UNAVAILABLE', `connection "${connectionName}": its OpenAPI document (settings.openapi.url) could not be fetched: ${err.message}`);
  if (err instanceof StoppedError) {
    return err.reason === 'deadline'
      ? new VmcpError('DEADLINE_EXCEEDED', `connection "${connectionName}": its OpenAPI document did not arrive in time`)
      : new VmcpError('CANCELLED', `the call on connection "${connectionName}" was cancelled`);
  }
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return new VmcpError('UNAVAILABLE', `connection "${connectionName}": its OpenAPI document (settings.openapi.url) did not arrive in time`);
  }
  return isVmcpError(err) ? err : new VmcpError('INTERNAL', `connection "${connectionName}": its OpenAPI document could not be read`);
}
