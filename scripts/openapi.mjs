// `npm run openapi`: writes the management API's OpenAPI document (docs/openapi.json)
// and regenerates the SDK's types from it (packages/sdk/src/generated/openapi.ts).
// The document is the one the edge serves at /openapi.json, built from the same
// schemas the edge validates with; a test checks both files against a live edge.
import { bootstrap, build, ROOT, run } from './bootstrap.mjs';

bootstrap(new URL(import.meta.url).pathname);
build();

const { writeFileSync, mkdirSync } = await import('node:fs');
const { join } = await import('node:path');
const { buildOpenApiDocument } = await import(join(ROOT, 'apps/edge/dist/api/openapi.js'));

/** The placeholder server URL of the published document; a running edge serves its own. */
export const DOCUMENT_SERVER_URL = 'http://localhost:8080';

const documentPath = join(ROOT, 'docs', 'openapi.json');
writeFileSync(documentPath, JSON.stringify(buildOpenApiDocument(DOCUMENT_SERVER_URL), null, 2) + '\n');
mkdirSync(join(ROOT, 'packages/sdk/src/generated'), { recursive: true });
const status = run(process.execPath, [
  join(ROOT, 'node_modules/openapi-typescript/bin/cli.js'),
  documentPath,
  '--output',
  join(ROOT, 'packages/sdk/src/generated/openapi.ts'),
]);
process.exit(status);
