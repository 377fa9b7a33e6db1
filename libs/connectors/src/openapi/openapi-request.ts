import type { ProviderRequest } from '../http/provider-http.js';
import { ToolError } from '../http/provider-errors.js';
import { PathParameterError, type QueryValue } from '../http/url.js';
import { isJsonType, type CompiledOperation, type ParameterPlan } from './openapi-compile.js';

// Bytes a header value may hold; CR, LF and NUL would split or end the header.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

type Scalar = string | number | boolean;

/**
 * The HTTP request an operation's arguments make (the arguments were checked against its
 * input schema): path parameters percent-encoded into the path, query, header and cookie
 * parameters serialised per their `style` and `explode`, the body as JSON, a form or text.
 */
export function buildRequest(op: CompiledOperation, args: Readonly<Record<string, unknown>>): ProviderRequest {
  const query: Record<string, QueryValue> = {};
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  let path = op.path;
  for (const p of op.parameters) {
    const value = args[p.property];
    if (value === undefined || value === null) continue;
    const v = p.json ? JSON.stringify(value) : value;
    switch (p.in) {
      case 'path':
        path = path.split(`{${p.name}}`).join(pathValue(p, v));
        break;
      case 'query':
        Object.assign(query, queryValues(p, v));
        break;
      case 'header': {
        const text = joined(v, p.explode, ',');
        if (!HEADER_VALUE.test(text)) throw new ToolError(`Invalid argument: ${p.property} holds characters a header cannot carry`);
        headers[p.name] = text;
        break;
      }
      case 'cookie':
        cookies.push(`${p.name}=${encodeURIComponent(joined(v, false, ','))}`);
        break;
    }
  }
  const missing = /\{([^}]+)\}/.exec(path);
  if (missing) throw new ToolError(`Invalid argument: the path parameter ${missing[1]} is required`);
  if (cookies.length) headers.Cookie = cookies.join('; ');
  if (op.accept) headers.Accept = op.accept;

  const request: { -readonly [K in keyof ProviderRequest]: ProviderRequest[K] } = { method: op.method, path, query, headers, responseType: 'text' };
  const body = op.body ? args[op.body.property] : undefined;
  if (op.body && body !== undefined) {
    const { mediaType, kind } = op.body;
    if (kind === 'json') request.body = { contentType: mediaType, data: JSON.stringify(body) };
    else if (kind === 'form') request.body = { contentType: mediaType, data: formBody(body) };
    else request.body = { contentType: mediaType, data: typeof body === 'string' ? body : JSON.stringify(body) };
  }
  return request;
}

/** A path parameter (style simple, label or matrix), each value percent-encoded. */
function pathValue(p: ParameterPlan, value: unknown): string {
  if (typeof value !== 'object' && (String(value) === '' || String(value) === '.' || String(value) === '..')) throw new PathParameterError(p.property);
  const enc = (s: Scalar) => encodeURIComponent(String(s));
  const items = Array.isArray(value) ? (value as Scalar[]).map(enc) : undefined;
  const pairs = !items && typeof value === 'object' && value !== null ? Object.entries(value).map(([k, v]) => [enc(k), enc(scalar(v))] as const) : undefined;
  const one = enc(value as Scalar);
  switch (p.style) {
    case 'label': {
      const sep = p.explode ? '.' : ',';
      if (items) return `.${items.join(sep)}`;
      if (pairs) return `.${p.explode ? pairs.map(([k, v]) => `${k}=${v}`).join('.') : pairs.flat().join(',')}`;
      return `.${one}`;
    }
    case 'matrix': {
      const name = encodeURIComponent(p.name);
      if (items) return p.explode ? items.map((i) => `;${name}=${i}`).join('') : `;${name}=${items.join(',')}`;
      if (pairs) return p.explode ? pairs.map(([k, v]) => `;${k}=${v}`).join('') : `;${name}=${pairs.flat().join(',')}`;
      return `;${name}=${one}`;
    }
    default:
      if (items) return items.join(',');
      if (pairs) return p.explode ? pairs.map(([k, v]) => `${k}=${v}`).join(',') : pairs.flat().join(',');
      return one;
  }
}

/** Query parameters of one argument (style form, spaceDelimited, pipeDelimited or deepObject). */
function queryValues(p: ParameterPlan, value: unknown): Record<string, QueryValue> {
  if (Array.isArray(value)) {
    const items = value.map(scalar);
    if (p.style === 'spaceDelimited') return { [p.name]: items.join(' ') };
    if (p.style === 'pipeDelimited') return { [p.name]: items.join('|') };
    return { [p.name]: p.explode ? items : items.join(',') };
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && v !== null);
    if (p.style === 'deepObject') return Object.fromEntries(entries.map(([k, v]) => [`${p.name}[${k}]`, scalar(v)]));
    if (p.explode) return Object.fromEntries(entries.map(([k, v]) => [k, scalar(v)]));
    return { [p.name]: entries.flatMap(([k, v]) => [k, scalar(v)]).join(',') };
  }
  return { [p.name]: value as Scalar };
}

/** A header or cookie value: arrays and objects comma-separated (style simple / form). */
function joined(value: unknown, explode: boolean, sep: string): string {
  if (Array.isArray(value)) return value.map(scalar).join(sep);
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && v !== null);
    return explode ? entries.map(([k, v]) => `${k}=${scalar(v)}`).join(sep) : entries.flatMap(([k, v]) => [k, scalar(v)]).join(sep);
  }
  return String(value);
}

/** application/x-www-form-urlencoded from an object: arrays repeat the field, nested objects go as JSON. */
function formBody(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ToolError('Invalid argument: body must be an object for a form request');
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(body)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) form.append(k, scalar(item));
    else form.append(k, scalar(v));
  }
  return form.toString();
}

function scalar(v: unknown): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

/** An answer's body as the tool returns it: parsed JSON where it is JSON, else the text; undefined when empty. */
export function answerValue(text: string, contentType: string | null): unknown {
  if (text.trim() === '') return undefined;
  const looksJson = contentType ? isJsonType(contentType) : /^\s*[[{"]/.test(text);
  if (!looksJson) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
