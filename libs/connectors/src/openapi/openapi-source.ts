import { isObject, type Json } from './openapi-document.js';

/** An inline document: it travels with the connection on the bus (NATS messages are at most 1 MiB), so it stays well below that. */
export const MAX_INLINE_DOCUMENT_BYTES = 256 * 1024;
/** A fetched document. */
export const MAX_FETCHED_DOCUMENT_BYTES = 4 * 1024 * 1024;

/** Where a connection's document is: in its settings, or at a URL the executor fetches. */
export type DocumentSource = { readonly kind: 'inline'; readonly document: Json } | { readonly kind: 'url'; readonly url: URL };

/** `settings.openapi` read as a source, or a problem phrased for the tenant. */
export function documentSource(setting: unknown): DocumentSource | string {
  if (!isObject(setting)) return 'settings.openapi is required: an OpenAPI 3 document, or {"url": "https://…"} where it is served';
  if ('url' in setting && !('openapi' in setting) && !('swagger' in setting)) {
    const keys = Object.keys(setting);
    if (keys.length !== 1) return 'settings.openapi: {"url": …} takes no other field';
    const raw = setting.url;
    if (typeof raw !== 'string' || raw.length > 2048 || !URL.canParse(raw)) return 'settings.openapi.url must be an http(s) URL';
    const url = new URL(raw);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'settings.openapi.url must be an http(s) URL';
    if (url.username || url.password) return 'settings.openapi.url must not contain credentials';
    return { kind: 'url', url };
  }
  return { kind: 'inline', document: setting };
}

export class DocumentFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DocumentFetchError';
  }
}

/**
 * Fetches a document (JSON, or YAML) without any credential: a document URL is public
 * reference material, and the user's credential belongs to the API only. Bounded in time
 * and size; the answer's final URL is what relative server URLs resolve against.
 */
export async function fetchDocument(url: URL, options: { readonly signal: AbortSignal; readonly maxBytes?: number }): Promise<{ readonly document: unknown; readonly url: URL }> {
  const maxBytes = options.maxBytes ?? MAX_FETCHED_DOCUMENT_BYTES;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { Accept: 'application/json, application/yaml;q=0.9, text/yaml;q=0.9, */*;q=0.5', 'User-Agent': 'vmcp' },
      redirect: 'follow',
      signal: options.signal,
    });
  } catch (err) {
    if (options.signal.aborted) throw err;
    throw new DocumentFetchError('it is unreachable');
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new DocumentFetchError(`it answered HTTP ${response.status}`);
  }
  const text = new TextDecoder().decode(await readLimited(response, maxBytes));
  const type = (response.headers.get('content-type') ?? '').toLowerCase();
  const where = new URL(response.url || url.toString());
  if (/json/.test(type) || /^\s*[{[]/.test(text)) {
    try {
      return { document: JSON.parse(text) as unknown, url: where };
    } catch {
      throw new DocumentFetchError('its answer is not valid JSON');
    }
  }
  return { document: await parseYaml(text), url: where };
}

async function readLimited(response: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new DocumentFetchError(`the document is larger than ${limit / (1024 * 1024)} MiB`);
  }
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new DocumentFetchError(`the document is larger than ${limit / (1024 * 1024)} MiB`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** YAML through the `yaml` package when this build has it; aliases are capped so a hostile document cannot expand without end. */
async function parseYaml(text: string): Promise<unknown> {
  let yaml: typeof import('yaml');
  try {
    yaml = await import('yaml');
  } catch {
    throw new DocumentFetchError('it is not JSON, and this build reads no YAML; serve the document as JSON');
  }
  try {
    return yaml.parse(text, { maxAliasCount: 100, prettyErrors: false });
  } catch {
    throw new DocumentFetchError('its answer is neither JSON nor valid YAML');
  }
}
