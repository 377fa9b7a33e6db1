import { PETSTORE_OPENAPI } from '@vmcp/testing';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { compileOpenApi } from './openapi-compile.js';
import { openapiConnectorInfo } from './openapi.catalog.js';

const require = createRequire(import.meta.url);
const Ajv2020 = (require('ajv/dist/2020') as { default: typeof import('ajv/dist/2020.js').default }).default;
const addFormats = (require('ajv-formats') as { default: typeof import('ajv-formats').default }).default;
const ajv = addFormats(new Ajv2020({ strict: true, allErrors: true }));

const S2020 = 'https://json-schema.org/draft/2020-12/schema';
const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };
const CREATE = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true };
const UPDATE = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true };

const petstore = () => structuredClone(PETSTORE_OPENAPI) as Record<string, unknown>;
/** The Pet schema of the Petstore document, as its tools publish it. */
const PET = {
  required: ['name', 'photoUrls'],
  type: 'object',
  properties: {
    id: { type: 'integer', format: 'int64', examples: [10] },
    name: { type: 'string', examples: ['doggie'] },
    category: { type: 'object', properties: { id: { type: 'integer', format: 'int64', examples: [1] }, name: { type: 'string', examples: ['Dogs'] } } },
    photoUrls: { type: 'array', items: { type: 'string' } },
    tags: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer', format: 'int64' }, name: { type: 'string' } } } },
    status: { type: 'string', description: 'pet status in the store', enum: ['available', 'pending', 'sold'] },
  },
};

/** A small document around the given paths (and components). */
function doc(paths: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { openapi: '3.0.3', info: { title: 'Demo', version: '1' }, servers: [{ url: 'https://api.example.com/v1' }], paths, ...extra };
}

describe('openapi connector: the Petstore document as tools', () => {
  const api = compileOpenApi(petstore());
  const tool = (name: string) => api.tools.find((t) => t.name === name)!;

  it('makes one tool per operation, named by its operationId, in document order', () => {
    expect(api.title).toBe('Swagger Petstore - OpenAPI 3.0');
    expect(api.server).toBe('/api/v3');
    expect(api.tools.map((t) => t.name)).toEqual([
      'updatePet', 'addPet', 'findPetsByStatus', 'findPetsByTags', 'getPetById', 'updatePetWithForm', 'deletePet', 'uploadFile',
      'getInventory', 'placeOrder', 'getOrderById', 'deleteOrder', 'createUser', 'createUsersWithListInput', 'loginUser', 'logoutUser',
      'getUserByName', 'updateUser', 'deleteUser',
    ]);
    expect(api.skipped).toEqual([]);
  });

  it('writes each input schema from the parameters and the JSON body, closed, in strict 2020-12', () => {
    for (const t of api.tools) {
      expect(t.inputSchema).toMatchObject({ $schema: S2020, type: 'object', additionalProperties: false });
      expect(() => ajv.compile(t.inputSchema), t.name).not.toThrow();
      if (t.outputSchema) expect(() => ajv.compile(t.outputSchema!), t.name).not.toThrow();
    }
    expect(tool('getPetById').inputSchema).toEqual({
      $schema: S2020,
      type: 'object',
      properties: { petId: { type: 'integer', format: 'int64', description: 'ID of pet to return' } },
      required: ['petId'],
      additionalProperties: false,
    });
    expect(tool('findPetsByStatus').inputSchema.properties).toEqual({
      status: { type: 'string', default: 'available', enum: ['available', 'pending', 'sold'], description: 'Status values that need to be considered for filter' },
    });
    expect(tool('findPetsByTags').inputSchema).toMatchObject({ properties: { tags: { type: 'array', items: { type: 'string' } } }, required: ['tags'] });
    // The body under `body`, its $refs inlined, OpenAPI-only keywords (xml, x-…) gone, `example` as `examples`.
    expect(tool('addPet').inputSchema).toEqual({
      $schema: S2020,
      type: 'object',
      properties: { body: { ...PET, description: 'Create a new pet in the store' } },
      required: ['body'],
      additionalProperties: false,
    });
    expect(tool('updateUser').inputSchema).toMatchObject({ properties: { username: { type: 'string' }, body: { type: 'object' } }, required: ['username'] });
    expect(tool('createUsersWithListInput').inputSchema.properties).toMatchObject({ body: { type: 'array', items: { type: 'object' } } });
    // deletePet's `api_key` header is the document's API key scheme: the credential, never an argument.
    expect(tool('deletePet').inputSchema).toEqual({
      $schema: S2020,
      type: 'object',
      properties: { petId: { type: 'integer', format: 'int64', description: 'Pet id to delete' } },
      required: ['petId'],
      additionalProperties: false,
    });
    // An octet-stream body can only come as text.
    expect(tool('uploadFile').inputSchema.properties).toMatchObject({ body: { type: 'string', description: 'The request body (application/octet-stream).' } });
    expect(tool('logoutUser').inputSchema).toEqual({ $schema: S2020, type: 'object', properties: {}, additionalProperties: false });

    const validate = ajv.compile(tool('addPet').inputSchema);
    expect(validate({ body: { name: 'Rex', photoUrls: [] } })).toBe(true);
    expect(validate({ body: { name: 'Rex' } })).toBe(false);
    expect(validate({ body: { name: 'Rex', photoUrls: [], status: 'lost' } })).toBe(false);
    expect(validate({ body: { name: 'Rex', photoUrls: [] }, extra: 1 })).toBe(false);
  });

  it('publishes an output schema where the success answer is a JSON object', () => {
    expect(tool('getPetById').outputSchema).toEqual({ $schema: S2020, ...PET });
    expect(tool('getInventory').outputSchema).toEqual({ $schema: S2020, type: 'object', additionalProperties: { type: 'integer', format: 'int32' } });
    expect(tool('findPetsByStatus').outputSchema).toBeUndefined(); // an array
    expect(tool('loginUser').outputSchema).toBeUndefined(); // a string
    expect(tool('deletePet').outputSchema).toBeUndefined(); // no content
  });

  it('states annotations from the method: GET reads, PUT and DELETE are idempotent, DELETE and PUT destructive, POST is neither', () => {
    const byName = Object.fromEntries(api.tools.map((t) => [t.name, t.annotations]));
    expect(byName.getPetById).toEqual(READ);
    expect(byName.findPetsByStatus).toEqual(READ);
    expect(byName.addPet).toEqual(CREATE);
    expect(byName.placeOrder).toEqual(CREATE);
    expect(byName.updatePet).toEqual(UPDATE);
    expect(byName.deletePet).toEqual(UPDATE);
    expect(byName.deleteOrder).toEqual({ readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true });
  });

  it('describes each tool with the operation\'s summary and description', () => {
    expect(tool('getPetById').description).toBe('Find pet by ID.\n\nReturns a single pet.');
    expect(tool('addPet').description).toBe('Add a new pet to the store.'); // the same words once
  });

  it('places the API key as the operation\'s security scheme says', () => {
    expect(api.operations.get('getInventory')).toMatchObject({ apiKey: { in: 'header', name: 'api_key' }, anonymous: false, accept: 'application/json' });
    expect(api.operations.get('getPetById')).toMatchObject({ method: 'GET', path: '/pet/{petId}', apiKey: { in: 'header', name: 'api_key' } });
  });
});

describe('openapi connector: schema conversion', () => {
  it('rewrites 3.0 nullable and boolean exclusive bounds, drops what 2020-12 does not know, keeps bad patterns out', () => {
    const api = compileOpenApi(
      doc({
        '/things': {
          get: {
            operationId: 'listThings',
            parameters: [
              { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 0, exclusiveMinimum: true, maximum: 100, 'x-internal': true } },
              { name: 'owner', in: 'query', schema: { type: 'string', nullable: true, enum: ['a', 'b'], pattern: '^\\p{L}+$' } },
              { name: 'code', in: 'query', schema: { type: 'string', pattern: '(?<', format: 'phone' } },
              { name: 'X-Trace', in: 'header', schema: { type: 'string' } },
              { name: 'Accept', in: 'header', schema: { type: 'string' } },
              { name: 'Content-Length', in: 'header', schema: { type: 'string' } },
            ],
            responses: { '200': { description: 'ok' } },
          },
        },
      }),
    );
    const t = api.tools[0]!;
    expect(t.inputSchema.properties).toEqual({
      limit: { type: 'integer', exclusiveMinimum: 0, maximum: 100 },
      owner: { type: ['string', 'null'], enum: ['a', 'b', null], pattern: '^\\p{L}+$' },
      code: { type: 'string' },
      'X-Trace': { type: 'string' },
    });
    expect(() => ajv.compile(t.inputSchema)).not.toThrow();
  });

  it('inlines local $refs, stops at a recursive one, and refuses a reference outside the document', () => {
    const components = {
      schemas: {
        Node: { type: 'object', properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#/components/schemas/Node' } } } },
      },
      parameters: { Depth: { name: 'depth', in: 'query', required: true, schema: { type: 'integer' } } },
    };
    const api = compileOpenApi(
      doc(
        {
          '/tree': {
            post: {
              operationId: 'putTree',
              parameters: [{ $ref: '#/components/parameters/Depth' }],
              requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } },
              responses: { '201': { description: 'made', content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } } },
            },
          },
        },
        { components },
      ),
    );
    const t = api.tools[0]!;
    expect(t.inputSchema.required).toEqual(['depth', 'body']);
    expect(t.inputSchema.properties).toMatchObject({
      depth: { type: 'integer' },
      body: { type: 'object', properties: { name: { type: 'string' }, children: { type: 'array', items: {} } } },
    });
    expect(t.outputSchema).toMatchObject({ type: 'object', properties: { children: { type: 'array', items: {} } } });

    expect(() =>
      compileOpenApi(doc({ '/x': { get: { operationId: 'x', responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: 'other.yaml#/Pet' } } } } } } } })),
    ).toThrow(/\$ref "other.yaml#\/Pet" is not local/);
    expect(() => compileOpenApi(doc({ '/x': { get: { operationId: 'x', parameters: [{ $ref: '#/components/parameters/Nope' }] } } }))).toThrow(/points at nothing/);
  });

  it('reads OpenAPI 3.1 (JSON Schema types, $ref siblings)', () => {
    const api = compileOpenApi({
      openapi: '3.1.0',
      info: { title: 'Demo 3.1', version: '1' },
      paths: {
        '/items/{id}': {
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          patch: {
            operationId: 'patchItem',
            requestBody: { content: { 'application/merge-patch+json': { schema: { $ref: '#/components/schemas/Item', description: 'Fields to change' } } } },
            responses: { '200': { description: 'ok' } },
          },
        },
      },
      components: { schemas: { Item: { type: 'object', properties: { note: { type: ['string', 'null'], examples: ['hi'] } } } } },
    });
    const op = api.operations.get('patchItem')!;
    expect(op.body).toEqual({ property: 'body', mediaType: 'application/merge-patch+json', kind: 'json' });
    expect(op.definition.inputSchema.properties).toEqual({
      id: { type: 'string' },
      body: { type: 'object', properties: { note: { type: ['string', 'null'], examples: ['hi'] } }, description: 'Fields to change' },
    });
    expect(op.definition.annotations).toEqual({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true });
  });

  it('names tools in the MCP charset, keeps them unique, and renames clashing arguments', () => {
    const api = compileOpenApi(
      doc({
        '/a/{id}': {
          get: {
            operationId: 'items.get/by id',
            parameters: [
              { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
              { name: 'id', in: 'query', schema: { type: 'string' } },
              { name: 'body', in: 'query', schema: { type: 'string' } },
            ],
          },
        },
        '/b': { get: { operationId: 'items_get_by_id' }, post: { summary: 'no id' } },
      }),
    );
    expect(api.tools.map((t) => t.name)).toEqual(['items_get_by_id', 'items_get_by_id_2']);
    expect(Object.keys(api.tools[0]!.inputSchema.properties as object)).toEqual(['id', 'query_id', 'query_body']);
    expect(api.operations.get('items_get_by_id')!.parameters.map((p) => [p.property, p.in, p.name])).toEqual([
      ['id', 'path', 'id'],
      ['query_id', 'query', 'id'],
      ['query_body', 'query', 'body'],
    ]);
    expect(api.skipped).toEqual(['POST /b: no operationId']);
  });

  it('refuses what is not an OpenAPI 3.0/3.1 document with at least one operationId', () => {
    expect(() => compileOpenApi({ swagger: '2.0', paths: {} })).toThrow('not an OpenAPI 3 document: the "openapi" version field is missing (this is a Swagger 2.0 document; convert it to OpenAPI 3)');
    expect(() => compileOpenApi({ openapi: '4.0.0', paths: {} })).toThrow('openapi "4.0.0" is not supported; OpenAPI 3.0.x and 3.1.x are');
    expect(() => compileOpenApi({ openapi: '3.0.0', info: {} })).toThrow('the document has no "paths" object');
    expect(() => compileOpenApi(doc({ '/x': { get: { summary: 'x' } } }))).toThrow('no operation has an operationId; each tool is named from one');
    expect(() => compileOpenApi(doc({ '/x/{id}': { get: { operationId: 'x' } } }))).toThrow('no operation can be offered as a tool (x: path parameter id is not described)');
    expect(() => compileOpenApi([])).toThrow('the document must be a JSON object');
  });
});

describe('openapi connector: connection settings', () => {
  const check = (settings: Record<string, unknown>, authType: 'api_key' | 'none' = 'api_key') => openapiConnectorInfo.validateSettings(settings, authType);

  it('is a dynamic connector that takes every auth type', () => {
    expect(openapiConnectorInfo).toMatchObject({ id: 'openapi', dynamic_tools: true, auth_types: ['none', 'api_key', 'bearer_token', 'basic', 'oauth2', 'custom_headers'] });
    expect(openapiConnectorInfo.tools).toBeUndefined();
  });

  it('takes an inline document (with a base URL where its server is relative) or a URL', () => {
    expect(check({ openapi: petstore(), base_url: 'https://petstore3.swagger.io/api/v3' })).toBeUndefined();
    expect(check({ openapi: doc({ '/x': { get: { operationId: 'x' } } }) })).toBeUndefined();
    expect(check({ openapi: { url: 'https://petstore3.swagger.io/api/v3/openapi.json' } })).toBeUndefined();
  });

  it('refuses an unusable document or source with a message that says why', () => {
    expect(check({})).toBe('settings.openapi is required: an OpenAPI 3 document, or {"url": "https://…"} where it is served');
    expect(check({ openapi: petstore() })).toBe('settings.base_url is required: the document names only the relative server URL "/api/v3"');
    expect(check({ openapi: { swagger: '2.0', paths: {} } })).toMatch(/^settings.openapi: not an OpenAPI 3 document/);
    expect(check({ openapi: doc({ '/x': { get: {} } }) })).toBe('settings.openapi: no operation has an operationId; each tool is named from one');
    expect(check({ openapi: { url: 'ftp://example.com/openapi.json' } })).toBe('settings.openapi.url must be an http(s) URL');
    expect(check({ openapi: { url: 'https://u:p@example.com/openapi.json' } })).toBe('settings.openapi.url must not contain credentials');
    expect(check({ openapi: { url: 'https://example.com/o.json', auth: 'x' } })).toBe('settings.openapi: {"url": …} takes no other field');
    expect(check({ url: 'https://mcp.example.com/mcp', openapi: petstore() })).toMatch(/^settings.url is for the mcp connector/);
    const huge = doc({ '/x': { get: { operationId: 'x', description: 'x'.repeat(300 * 1024) } } });
    expect(check({ openapi: huge })).toMatch(/^settings.openapi: an inline document is at most 256 KiB \(this one is 30\d KiB\)/);
  });
});
