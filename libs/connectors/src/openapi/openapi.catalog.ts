import type { ConnectorInfo } from '../catalog.js';
import { parseBaseUrl } from '../http/url.js';
import { compileOpenApi, type CompiledApi } from './openapi-compile.js';
import { DocumentError } from './openapi-document.js';
import { documentSource, MAX_INLINE_DOCUMENT_BYTES } from './openapi-source.js';

/**
 * The `openapi` connector in the catalog. Its tools are the operations of each connection's
 * own document, so they are discovered per connection (`dynamic_tools`), like `mcp`'s. An
 * inline document is checked in full when the connection is saved; a URL only when the
 * executor first fetches it.
 */
export const openapiConnectorInfo: ConnectorInfo = {
  id: 'openapi',
  name: 'OpenAPI service',
  description:
    'Any REST API described by an OpenAPI 3.0 or 3.1 document (settings.openapi: the document itself, or {"url": …} where it is served): ' +
    'each operation with an operationId is a tool, called with the user\'s own credential as the document\'s security scheme says.',
  auth_types: ['none', 'api_key', 'bearer_token', 'basic', 'oauth2', 'custom_headers'],
  dynamic_tools: true,
  validateSettings(settings) {
    if (settings.url) return 'settings.url is for the mcp connector; the openapi connector takes settings.openapi (and settings.base_url, optional)';
    if (settings.base_url) {
      try {
        parseBaseUrl(settings.base_url);
      } catch (err) {
        return `settings.base_url: ${(err as Error).message}`;
      }
    }
    const source = documentSource(settings.openapi);
    if (typeof source === 'string') return source;
    if (source.kind === 'url') return undefined;
    const bytes = Buffer.byteLength(JSON.stringify(source.document));
    if (bytes > MAX_INLINE_DOCUMENT_BYTES) {
      return `settings.openapi: an inline document is at most ${MAX_INLINE_DOCUMENT_BYTES / 1024} KiB (this one is ${Math.ceil(bytes / 1024)} KiB); serve it and give {"url": …}`;
    }
    let api: CompiledApi;
    try {
      api = compileOpenApi(source.document);
    } catch (err) {
      if (err instanceof DocumentError) return `settings.openapi: ${err.message}`;
      throw err;
    }
    if (settings.base_url) return undefined;
    if (api.server === undefined || !URL.canParse(api.server)) {
      const named = api.server === undefined ? 'names no server' : `names only the relative server URL "${api.server.slice(0, 100)}"`;
      return `settings.base_url is required: the document ${named}`;
    }
    try {
      parseBaseUrl(api.server);
    } catch (err) {
      return `settings.base_url is required: the document's server URL is not usable (${(err as Error).message})`;
    }
    return undefined;
  },
};
