/**
 * Reading an OpenAPI 3.0/3.1 document as untrusted data: every field is checked where it
 * is used, local `$ref`s are followed with a bound, and problems are DocumentErrors that
 * say where in the document they are (never a stack trace).
 */

/** A JSON object of the document. */
export type Json = { readonly [key: string]: unknown };

/** What is wrong with a document, phrased for the tenant who supplied it. */
export class DocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DocumentError';
  }
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `3.0` or `3.1`, from the document's `openapi` field; anything else is refused. */
export function openApiVersion(doc: Json): '3.0' | '3.1' {
  const declared = doc.openapi;
  if (typeof declared !== 'string') {
    const swagger = typeof doc.swagger === 'string' ? ` (this is a Swagger ${doc.swagger.slice(0, 10)} document; convert it to OpenAPI 3)` : '';
    throw new DocumentError(`not an OpenAPI 3 document: the "openapi" version field is missing${swagger}`);
  }
  const m = /^3\.([01])\.\d+(-[0-9A-Za-z.-]+)?$/.exec(declared);
  if (!m) throw new DocumentError(`openapi "${declared.slice(0, 20)}" is not supported; OpenAPI 3.0.x and 3.1.x are`);
  return m[1] === '0' ? '3.0' : '3.1';
}

/** Follows a chain of `$ref` to a non-reference object (parameters, request bodies, responses, path items). */
export function deref(doc: Json, value: unknown, where: string): Json | undefined {
  let current = value;
  for (let hops = 0; isObject(current) && typeof current.$ref === 'string'; hops++) {
    if (hops >= 16) throw new DocumentError(`${where}: $ref chain too long or circular`);
    current = resolvePointer(doc, current.$ref, where);
  }
  return isObject(current) ? current : undefined;
}

/** The value a local reference (`#/components/schemas/Pet`) points at. */
export function resolvePointer(doc: Json, ref: string, where: string): unknown {
  if (!ref.startsWith('#')) {
    throw new DocumentError(`${where}: $ref "${ref.slice(0, 120)}" is not local; only references within the document (#/…) are supported`);
  }
  let current: unknown = doc;
  if (ref === '#') return current;
  if (!ref.startsWith('#/')) throw new DocumentError(`${where}: $ref "${ref.slice(0, 120)}" is not a JSON pointer`);
  for (const raw of ref.slice(2).split('/')) {
    let token: string;
    try {
      token = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      throw new DocumentError(`${where}: $ref "${ref.slice(0, 120)}" is not a valid JSON pointer`);
    }
    if (Array.isArray(current) && /^\d+$/.test(token)) current = current[Number(token)];
    else if (isObject(current) && Object.hasOwn(current, token)) current = current[token];
    else throw new DocumentError(`${where}: $ref "${ref.slice(0, 120)}" points at nothing in the document`);
  }
  return current;
}
