import type { JsonSchema } from '../native/native-connector.definition.js';
import { DocumentError, isObject, resolvePointer, type Json } from './openapi-document.js';

/** Nested `$ref`s expanded along one path; deeper (or circular) ones become "any value". */
export const MAX_REF_DEPTH = 8;
/** Schema nesting beyond references; deeper parts become "any value". */
const MAX_NESTING = 48;

/**
 * Keywords of JSON Schema 2020-12 kept as they are. Everything else in an OpenAPI schema
 * (`xml`, `discriminator`, `externalDocs`, `x-…`, `$id`, …) is left out, so the result
 * compiles in a strict 2020-12 validator and means the same to every client.
 */
const PLAIN = new Set([
  'title', 'description', 'default', 'deprecated', 'readOnly', 'writeOnly', 'enum', 'const',
  'multipleOf', 'maximum', 'minimum', 'maxLength', 'minLength', 'maxItems', 'minItems', 'uniqueItems',
  'maxContains', 'minContains', 'maxProperties', 'minProperties', 'dependentRequired',
  'contentMediaType', 'contentEncoding',
]);
const SUBSCHEMA = new Set(['items', 'additionalProperties', 'not', 'contains', 'propertyNames', 'if', 'then', 'else', 'unevaluatedProperties', 'unevaluatedItems']);
const SUBSCHEMA_MAP = new Set(['properties', 'patternProperties', 'dependentSchemas']);
const SUBSCHEMA_LIST = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object', 'null']);
/** Formats a standard validator knows (ajv-formats, which includes OpenAPI's int32 … binary). */
const FORMATS = new Set([
  'date', 'time', 'date-time', 'iso-time', 'iso-date-time', 'duration', 'uri', 'uri-reference', 'uri-template', 'url', 'email',
  'hostname', 'ipv4', 'ipv6', 'regex', 'uuid', 'json-pointer', 'json-pointer-uri-fragment', 'relative-json-pointer',
  'byte', 'int32', 'int64', 'float', 'double', 'password', 'binary',
]);

export interface SchemaContext {
  readonly doc: Json;
  readonly version: '3.0' | '3.1';
  /** Schema objects left to produce for this tool: a document whose references fan out without end is refused. */
  budget: number;
}

/**
 * An OpenAPI Schema Object (3.0's dialect or 3.1's JSON Schema) as a self-contained
 * JSON Schema 2020-12 sub-schema: local `$ref`s inlined, `nullable` and 3.0's boolean
 * `exclusiveMinimum`/`exclusiveMaximum` rewritten, `example` kept as `examples`.
 */
export function toJsonSchema(ctx: SchemaContext, schema: unknown, where: string, refs: readonly string[] = [], depth = 0): JsonSchema | boolean {
  if (typeof schema === 'boolean') return schema;
  if (!isObject(schema)) return {};
  if (--ctx.budget < 0) throw new DocumentError(`${where}: schemas too large once their $refs are resolved`);
  if (depth > MAX_NESTING) return {};

  if (typeof schema.$ref === 'string') {
    const ref = schema.$ref;
    // A recursive structure, or a chain this deep: what is beneath is not checked here (the API still checks it).
    if (refs.includes(ref) || refs.length >= MAX_REF_DEPTH) return {};
    const target = toJsonSchema(ctx, resolvePointer(ctx.doc, ref, where), where, [...refs, ref], depth + 1);
    // 3.0 ignores a $ref's siblings; 3.1 (JSON Schema) applies them too, description and the like.
    if (ctx.version === '3.0' || Object.keys(schema).length === 1) return target;
    const { $ref: _ref, ...siblings } = schema;
    const rest = toJsonSchema(ctx, siblings, where, refs, depth + 1);
    if (typeof target === 'boolean' || typeof rest === 'boolean') return { allOf: [target, rest] };
    return { ...target, ...rest };
  }

  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (PLAIN.has(key)) out[key] = value;
    else if (key === 'type') {
      const types = (Array.isArray(value) ? value : [value]).filter((t): t is string => typeof t === 'string' && TYPES.has(t));
      if (types.length > 0) out.type = Array.isArray(value) ? types : types[0];
    } else if (key === 'required') {
      if (Array.isArray(value)) out.required = [...new Set(value.filter((r) => typeof r === 'string'))];
    } else if (key === 'format') {
      if (typeof value === 'string' && FORMATS.has(value)) out.format = value;
    } else if (key === 'pattern') {
      if (typeof value === 'string' && compiles(value)) out.pattern = value;
    } else if (key === 'example') {
      if (value !== undefined && !('examples' in schema)) out.examples = [value];
    } else if (key === 'examples') {
      if (Array.isArray(value)) out.examples = value;
    } else if (key === 'exclusiveMinimum' || key === 'exclusiveMaximum') {
      if (typeof value === 'number') out[key] = value;
    } else if (SUBSCHEMA.has(key)) {
      if (isObject(value) || typeof value === 'boolean') out[key] = toJsonSchema(ctx, value, where, refs, depth + 1);
    } else if (SUBSCHEMA_MAP.has(key)) {
      if (isObject(value)) {
        out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSchema(ctx, v, where, refs, depth + 1)]));
      }
    } else if (SUBSCHEMA_LIST.has(key)) {
      if (Array.isArray(value) && value.length > 0) out[key] = value.map((v) => toJsonSchema(ctx, v, where, refs, depth + 1));
    }
  }

  // OpenAPI 3.0: `exclusiveMinimum: true` qualifies `minimum`; 2020-12 says it with a number.
  for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (schema[flag] === true && typeof out[bound] === 'number') {
      out[flag] = out[bound];
      delete out[bound];
    }
  }
  // OpenAPI 3.0's `nullable: true` is 2020-12's type union with null.
  if (schema.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type) && !out.type.includes('null')) out.type = [...(out.type as string[]), 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...(out.enum as unknown[]), null];
  }
  // `required` names properties: where a schema has properties but no type, it is an object.
  if (out.type === undefined && (out.properties !== undefined || out.additionalProperties !== undefined) && !out.allOf && !out.anyOf && !out.oneOf) {
    out.type = 'object';
  }
  return out;
}

/** Whether a validator (which compiles patterns as Unicode regular expressions) accepts the pattern. */
function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}
