import { RESERVED_HEADERS, type ToolDefinition } from '@vmcp/contracts';
import type { HttpMethod } from '../http/provider-http.js';
import { ANNOTATIONS, JSON_SCHEMA_2020_12, type JsonSchema, type ToolAnnotations } from '../native/native-connector.definition.js';
import { deref, DocumentError, isObject, openApiVersion, str, type Json } from './openapi-document.js';
import { toJsonSchema, type SchemaContext } from './openapi-schema.js';

/** Tool names: the operationId in the charset every MCP client takes. */
const TOOL_NAME_MAX = 64;
const DESCRIPTION_MAX = 4000;
/** Schema objects one tool's input and output may hold once `$ref`s are inlined. */
const SCHEMA_BUDGET = 20_000;
/** At most this many tools from one document. */
export const MAX_OPERATIONS = 500;
/** The tool definitions of one document, as JSON: a tool list crosses the bus in one message (at most 1 MiB). */
export const MAX_TOOL_LIST_BYTES = 512 * 1024;

const METHODS: ReadonlyArray<readonly [string, HttpMethod]> = [
  ['get', 'GET'],
  ['put', 'PUT'],
  ['post', 'POST'],
  ['delete', 'DELETE'],
  ['patch', 'PATCH'],
  ['head', 'HEAD'],
];

/**
 * What each HTTP method promises (RFC 9110), as MCP annotations. PUT replaces and DELETE
 * removes (destructive, but the same again changes nothing more); PATCH may change what
 * is there and need not be idempotent; POST is taken to add something new each time.
 */
const METHOD_ANNOTATIONS: Readonly<Record<HttpMethod, ToolAnnotations>> = {
  GET: ANNOTATIONS.read,
  HEAD: ANNOTATIONS.read,
  PUT: ANNOTATIONS.update,
  DELETE: ANNOTATIONS.remove,
  POST: ANNOTATIONS.create,
  PATCH: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
};

export type ParameterLocation = 'path' | 'query' | 'header' | 'cookie';

/** How one argument becomes part of the request. */
export interface ParameterPlan {
  /** The argument's name in the tool's input schema. */
  readonly property: string;
  /** The parameter's name in the request. */
  readonly name: string;
  readonly in: ParameterLocation;
  readonly style: string;
  readonly explode: boolean;
  /** Sent as JSON text (a parameter described by `content` rather than `schema`). */
  readonly json: boolean;
  readonly allowReserved: boolean;
}

export interface BodyPlan {
  readonly property: string;
  readonly mediaType: string;
  /** json: the argument as JSON; form: an object as application/x-www-form-urlencoded; text: a string as is. */
  readonly kind: 'json' | 'form' | 'text';
}

/** Where an API key goes, per the document's `apiKey` security scheme. */
export interface ApiKeyPlacement {
  readonly in: 'header' | 'query' | 'cookie';
  readonly name: string;
}

/** One operation, ready to be called: its tool definition and how to build its request. */
export interface CompiledOperation {
  readonly definition: ToolDefinition;
  readonly annotations: ToolAnnotations;
  readonly operationId: string;
  readonly method: HttpMethod;
  /** The path template as the document writes it (`/pet/{petId}`). */
  readonly path: string;
  readonly parameters: readonly ParameterPlan[];
  readonly body: BodyPlan | undefined;
  /** The Accept header: the media types of its success answer, JSON first. */
  readonly accept: string | undefined;
  /** `security: []`: the operation takes no credential, so none is sent. */
  readonly anonymous: boolean;
  /** The API key scheme this operation names (else the document's first), for auth type api_key. */
  readonly apiKey: ApiKeyPlacement | undefined;
}

export interface CompiledApi {
  /** The API's title, for messages ("Swagger Petstore - OpenAPI 3.0 answered HTTP 404: …"). */
  readonly title: string;
  /** The document's first server URL with its variables' defaults, possibly relative; undefined if none. */
  readonly server: string | undefined;
  readonly operations: ReadonlyMap<string, CompiledOperation>;
  readonly tools: readonly ToolDefinition[];
  /** Operations not offered as tools, and why (no operationId, a body type not supported). */
  readonly skipped: readonly string[];
}

/**
 * Turns an OpenAPI 3.0/3.1 document into tools: one per operation with an `operationId`,
 * its input schema from the path, query, header and cookie parameters and the request body
 * (under `body`), its output schema from a JSON object success answer, its annotations from
 * the method. Throws DocumentError when the document cannot be used at all.
 */
export function compileOpenApi(raw: unknown): CompiledApi {
  if (!isObject(raw)) throw new DocumentError('the document must be a JSON object');
  const doc = raw;
  const version = openApiVersion(doc);
  const info = isObject(doc.info) ? doc.info : {};
  const title = oneLine(str(info.title) ?? '', 60) || 'The API';
  if (!isObject(doc.paths)) throw new DocumentError(version === '3.1' && isObject(doc.webhooks) ? 'the document has no paths (webhooks only)' : 'the document has no "paths" object');

  const schemes = isObject(doc.components) && isObject(doc.components.securitySchemes) ? doc.components.securitySchemes : {};
  const apiKeySchemes = new Map<string, ApiKeyPlacement>();
  for (const [name, s] of Object.entries(schemes)) {
    const scheme = deref(doc, s, `components.securitySchemes.${name}`);
    if (scheme?.type === 'apiKey' && (scheme.in === 'header' || scheme.in === 'query' || scheme.in === 'cookie') && typeof scheme.name === 'string' && scheme.name) {
      apiKeySchemes.set(name, { in: scheme.in, name: scheme.name });
    }
  }
  const credentialHeaders = new Set([...apiKeySchemes.values()].filter((k) => k.in === 'header').map((k) => k.name.toLowerCase()));

  const operations = new Map<string, CompiledOperation>();
  const skipped: string[] = [];
  let withId = 0;
  for (const [path, rawItem] of Object.entries(doc.paths)) {
    const item = deref(doc, rawItem, `paths.${path}`);
    if (!item) continue;
    if (!path.startsWith('/')) throw new DocumentError(`paths: "${path.slice(0, 80)}" must start with "/"`);
    for (const [key, method] of METHODS) {
      const op = item[key];
      if (!isObject(op)) continue;
      const where = `paths.${path}.${key}`;
      const operationId = str(op.operationId)?.trim();
      if (!operationId) {
        skipped.push(`${method} ${path}: no operationId`);
        continue;
      }
      withId++;
      if (operations.size >= MAX_OPERATIONS) throw new DocumentError(`more than ${MAX_OPERATIONS} operations; serve a document with the operations you need`);
      const ctx: SchemaContext = { doc, version, budget: SCHEMA_BUDGET };
      const compiled = compileOperation({ doc, ctx, path, item, op, method, operationId, where, credentialHeaders });
      if (typeof compiled === 'string') {
        skipped.push(`${operationId}: ${compiled}`);
        continue;
      }
      const security = Array.isArray(op.security) ? op.security : Array.isArray(doc.security) ? doc.security : undefined;
      const name = uniqueName(toolName(operationId), operations);
      operations.set(name, {
        ...compiled,
        definition: { ...compiled.definition, name },
        anonymous: security !== undefined && security.length === 0,
        apiKey: apiKeyFor(security, apiKeySchemes),
      });
    }
  }
  if (withId === 0) throw new DocumentError('no operation has an operationId; each tool is named from one');
  if (operations.size === 0) throw new DocumentError(`no operation can be offered as a tool (${skipped.slice(0, 3).join('; ')})`);
  const tools = [...operations.values()].map((o) => o.definition);
  // Tool lists cross the bus in one message.
  const bytes = Buffer.byteLength(JSON.stringify(tools));
  if (bytes > MAX_TOOL_LIST_BYTES) {
    throw new DocumentError(`its ${tools.length} tools take ${Math.ceil(bytes / 1024)} KiB of definitions, more than ${MAX_TOOL_LIST_BYTES / 1024} KiB; serve a document with the operations you need`);
  }
  return { title, server: serverUrl(doc), operations, tools, skipped };
}

interface OperationInput {
  readonly doc: Json;
  readonly ctx: SchemaContext;
  readonly path: string;
  readonly item: Json;
  readonly op: Json;
  readonly method: HttpMethod;
  readonly operationId: string;
  readonly where: string;
  readonly credentialHeaders: ReadonlySet<string>;
}

type OperationParts = Omit<CompiledOperation, 'anonymous' | 'apiKey'>;

/** The operation's tool, or why it cannot be one. */
function compileOperation(input: OperationInput): OperationParts | string {
  const { doc, ctx, path, item, op, method, operationId, where } = input;
  const properties: Record<string, JsonSchema | boolean> = {};
  const required: string[] = [];
  const parameters: ParameterPlan[] = [];

  // Path-level parameters, unless the operation redefines one (same name and location).
  const declared = new Map<string, Json>();
  for (const [source, list] of [['parameters', item.parameters], [`${method.toLowerCase()}.parameters`, op.parameters]] as const) {
    if (!Array.isArray(list)) continue;
    list.forEach((p, i) => {
      const param = deref(doc, p, `${where.replace(/\.[a-z]+$/, '')}.${source}[${i}]`);
      if (param && typeof param.name === 'string' && typeof param.in === 'string') declared.set(`${param.in}:${param.name}`, param);
    });
  }
  // `body` is the request body's; `__proto__` would not be an own property of the schema.
  const taken = new Set<string>(['body', '__proto__']);
  const byLocation: ParameterLocation[] = ['path', 'query', 'header', 'cookie'];
  const ordered = [...declared.values()].sort((a, b) => byLocation.indexOf(a.in as ParameterLocation) - byLocation.indexOf(b.in as ParameterLocation));
  for (const param of ordered) {
    const location = param.in as ParameterLocation;
    const name = param.name as string;
    if (!byLocation.includes(location)) continue;
    if (location === 'header') {
      const lower = name.toLowerCase();
      // OpenAPI ignores these three; the others are the transport's, or the credential's (an API key header).
      if (lower === 'accept' || lower === 'content-type' || lower === 'authorization' || lower === 'cookie' || RESERVED_HEADERS.has(lower) || input.credentialHeaders.has(lower)) continue;
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/.test(name)) continue;
    }
    if (location === 'path' && !path.includes(`{${name}}`)) continue;
    const property = propertyName(name, location, taken);
    let schema: JsonSchema | boolean;
    let json = false;
    if (param.schema !== undefined) {
      schema = toJsonSchema(ctx, param.schema, `${where} parameter ${name}`);
    } else if (isObject(param.content)) {
      const media = Object.values(param.content)[0];
      schema = isObject(media) ? toJsonSchema(ctx, media.schema, `${where} parameter ${name}`) : {};
      json = true;
    } else {
      schema = { type: 'string' };
    }
    properties[property] = describe(schema, str(param.description), param.deprecated === true);
    if (location === 'path' || param.required === true) required.push(property);
    const style = str(param.style) ?? (location === 'query' || location === 'cookie' ? 'form' : 'simple');
    parameters.push({ property, name, in: location, style, explode: typeof param.explode === 'boolean' ? param.explode : style === 'form', json, allowReserved: param.allowReserved === true });
  }
  for (const m of path.matchAll(/\{([^}]+)\}/g)) {
    if (!parameters.some((p) => p.in === 'path' && p.name === m[1])) return `path parameter ${m[1]} is not described`;
  }

  let body: BodyPlan | undefined;
  const requestBody = deref(doc, op.requestBody, `${where}.requestBody`);
  if (requestBody && isObject(requestBody.content)) {
    const chosen = pickMedia(requestBody.content);
    if (!chosen) {
      if (requestBody.required === true) return `request body type ${Object.keys(requestBody.content).slice(0, 3).join(', ')} is not supported`;
    } else {
      const [mediaType, media, kind] = chosen;
      const schema = kind === 'text' ? { type: 'string' } : toJsonSchema(ctx, media.schema, `${where}.requestBody`);
      properties.body = describe(schema, str(requestBody.description) ?? `The request body (${mediaType}).`, false);
      if (requestBody.required === true) required.push('body');
      body = { property: 'body', mediaType, kind };
    }
  }

  const success = successResponse(doc, op, where);
  const outputSchema = success ? objectSchema(ctx, success, where) : undefined;
  const inputSchema: JsonSchema = {
    $schema: JSON_SCHEMA_2020_12,
    type: 'object',
    properties,
    ...(required.length ? { required } : {}),
    additionalProperties: false,
  };
  const definition: ToolDefinition = {
    name: operationId,
    description: description(op, method, path),
    inputSchema: inputSchema as ToolDefinition['inputSchema'],
    ...(outputSchema ? { outputSchema: outputSchema as NonNullable<ToolDefinition['outputSchema']> } : {}),
    annotations: { ...METHOD_ANNOTATIONS[method] },
  };
  return { definition, annotations: METHOD_ANNOTATIONS[method], operationId, method, path, parameters, body, accept: success ? accept(success) : undefined };
}

/** The media type a request body is sent as: JSON where offered, else a form, else text. */
function pickMedia(content: Json): [string, Json, BodyPlan['kind']] | undefined {
  const entries = Object.entries(content).filter((e): e is [string, Json] => isObject(e[1]));
  const json = entries.find(([t]) => isJsonType(t));
  if (json) return [json[0], json[1], 'json'];
  const form = entries.find(([t]) => t.toLowerCase() === 'application/x-www-form-urlencoded');
  if (form) return [form[0], form[1], 'form'];
  // Bytes cannot come as tool arguments; a string can (text/plain, application/xml, octet-stream as text).
  const text = entries.find(([t]) => !/^multipart\//i.test(t) && !t.includes('*'));
  return text ? [text[0], text[1], 'text'] : undefined;
}

export function isJsonType(mediaType: string): boolean {
  const t = (mediaType.split(';')[0] ?? '').trim().toLowerCase();
  return t === 'application/json' || /^[a-z]+\/[^;]*\+json$/.test(t);
}

/** The first 2xx answer (lowest code, then 2XX), or undefined. */
function successResponse(doc: Json, op: Json, where: string): Json | undefined {
  if (!isObject(op.responses)) return undefined;
  const codes = Object.keys(op.responses).filter((c) => /^2\d\d$/.test(c)).sort();
  if (Object.hasOwn(op.responses, '2XX')) codes.push('2XX');
  for (const code of codes) {
    const response = deref(doc, op.responses[code], `${where}.responses.${code}`);
    if (response) return response;
  }
  return undefined;
}

/** The output schema, when the success answer is a JSON object. */
function objectSchema(ctx: SchemaContext, response: Json, where: string): JsonSchema | undefined {
  if (!isObject(response.content)) return undefined;
  const media = Object.entries(response.content).find(([t, m]) => isJsonType(t) && isObject(m));
  if (!media || !isObject(media[1])) return undefined;
  const schema = toJsonSchema(ctx, media[1].schema, `${where} response`);
  if (typeof schema === 'boolean' || schema.type !== 'object') return undefined;
  return { $schema: JSON_SCHEMA_2020_12, ...schema };
}

function accept(response: Json): string | undefined {
  if (!isObject(response.content)) return undefined;
  const types = Object.keys(response.content).filter((t) => /^[\w.+-]+\/[\w.+*-]+$/.test(t));
  if (types.length === 0) return undefined;
  const json = types.filter(isJsonType);
  return (json.length ? json : types).join(', ');
}

/** A property schema with the parameter's own description where the schema has none. */
function describe(schema: JsonSchema | boolean, text: string | undefined, deprecated: boolean): JsonSchema | boolean {
  if (typeof schema === 'boolean') return schema;
  const out: Record<string, unknown> = { ...schema };
  const words = text?.trim();
  if (words && out.description === undefined) out.description = words.slice(0, 1000);
  if (deprecated) out.deprecated = true;
  return out;
}

function description(op: Json, method: HttpMethod, path: string): string {
  const summary = str(op.summary)?.trim() ?? '';
  const detail = str(op.description)?.trim() ?? '';
  const parts = [summary, detail !== summary ? detail : ''].filter(Boolean);
  if (op.deprecated === true) parts.push('Deprecated by the API.');
  const text = parts.join('\n\n') || `Calls ${method} ${path}.`;
  return text.length > DESCRIPTION_MAX ? `${text.slice(0, DESCRIPTION_MAX - 1)}…` : text;
}

/** The operationId in the charset every MCP client accepts: A-Z a-z 0-9 _ -, at most 64. */
export function toolName(operationId: string): string {
  return operationId.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, TOOL_NAME_MAX) || 'operation';
}

function uniqueName(name: string, taken: ReadonlyMap<string, unknown>): string {
  if (!taken.has(name)) return name;
  for (let i = 2; ; i++) {
    const suffix = `_${i}`;
    const candidate = `${name.slice(0, TOOL_NAME_MAX - suffix.length)}${suffix}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** The argument name of a parameter: its own, or prefixed by its location if another has it. */
function propertyName(name: string, location: ParameterLocation, taken: Set<string>): string {
  let property = taken.has(name) ? `${location}_${name}` : name;
  for (let i = 2; taken.has(property); i++) property = `${location}_${name}_${i}`;
  taken.add(property);
  return property;
}

/** The API key scheme the operation's security names first, else the document's first. */
function apiKeyFor(security: readonly unknown[] | undefined, schemes: ReadonlyMap<string, ApiKeyPlacement>): ApiKeyPlacement | undefined {
  for (const requirement of security ?? []) {
    if (!isObject(requirement)) continue;
    for (const name of Object.keys(requirement)) {
      const scheme = schemes.get(name);
      if (scheme) return scheme;
    }
  }
  return schemes.values().next().value;
}

/** The first server's URL with each `{variable}` replaced by its default. */
function serverUrl(doc: Json): string | undefined {
  const first: unknown = Array.isArray(doc.servers) ? doc.servers[0] : undefined;
  if (!isObject(first) || typeof first.url !== 'string') return undefined;
  const variables = isObject(first.variables) ? first.variables : {};
  return first.url.replace(/\{([^}]+)\}/g, (whole, name: string) => {
    const v = variables[name];
    return isObject(v) && typeof v.default === 'string' ? v.default : whole;
  });
}

function oneLine(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}
