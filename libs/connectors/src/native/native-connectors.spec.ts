import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { CONNECTORS, findConnector } from '../catalog.js';
import { NATIVE_CONNECTORS } from '../native-connectors.js';
import { createConnectors } from '../registry.js';
import { ANNOTATIONS, defineNativeConnector, defineTool, JSON_SCHEMA_2020_12, type NativeConnectorSpec } from './native-connector.definition.js';

const require = createRequire(import.meta.url);
const Ajv2020 = (require('ajv/dist/2020') as { default: typeof import('ajv/dist/2020.js').default }).default;
const addFormats = (require('ajv-formats') as { default: typeof import('ajv-formats').default }).default;

// Every connector in NATIVE_CONNECTORS passes these without a test of its own.
describe.each(NATIVE_CONNECTORS.map((c) => [c.id, c] as const))('native connector %s', (id, connector) => {
  it('is in the catalog and the registry', () => {
    expect(findConnector(id)).toBe(connector.info);
    const registry = createConnectors({ resolveCredential: () => Promise.reject(new Error('unused')) });
    expect(registry.get(id)?.id).toBe(id);
  });

  it('publishes schemas that compile in strict 2020-12 mode', () => {
    const ajv = addFormats(new Ajv2020({ strict: true }));
    for (const tool of connector.info.tools) {
      expect(() => ajv.compile(tool.inputSchema), tool.name).not.toThrow();
      if (tool.outputSchema) expect(() => ajv.compile(tool.outputSchema!), tool.name).not.toThrow();
    }
  });
});

describe('native connector catalog', () => {
  it('has unique connector ids and tool names', () => {
    const ids = CONNECTORS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    const names = NATIVE_CONNECTORS.flatMap((c) => c.info.tools.map((t) => t.name));
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('defineNativeConnector', () => {
  const good = defineTool<{ q: string }>({
    name: 'demo_search',
    description: 'Searches the demo service for things.',
    inputSchema: { $schema: JSON_SCHEMA_2020_12, type: 'object', properties: { q: { type: 'string' } }, required: ['q'], additionalProperties: false },
    annotations: ANNOTATIONS.read,
    run: async ({ q }) => q,
  });
  const spec: NativeConnectorSpec = { id: 'demo', name: 'Demo', description: 'Demo', auth_types: ['api_key'], baseUrl: 'https://api.demo.test', http: { provider: 'Demo' }, tools: [good] };

  it('accepts a well-formed definition and builds its catalog entry', () => {
    const d = defineNativeConnector(spec);
    expect(d.info).toMatchObject({ id: 'demo', dynamic_tools: false, tools: [{ name: 'demo_search', inputSchema: { type: 'object' }, annotations: ANNOTATIONS.read }] });
    expect(d.tool('demo_search')).toBe(good);
    expect(d.tool('nope')).toBeUndefined();
  });

  it('refuses names, schemas and annotations that would mislead a client', () => {
    const bad = (tool: Record<string, unknown>) => defineNativeConnector({ ...spec, tools: [{ ...good, ...tool } as typeof good] });
    expect(() => bad({ name: 'other_search' })).toThrow(/name must be demo_<name>/);
    expect(() => bad({ description: 'short' })).toThrow(/description/);
    expect(() => bad({ inputSchema: { type: 'object' } })).toThrow(/\$schema must be .*additionalProperties must be false/);
    expect(() => bad({ outputSchema: { $schema: JSON_SCHEMA_2020_12, type: 'array' } })).toThrow(/outputSchema: type must be "object"/);
    expect(() => bad({ annotations: { readOnlyHint: true } })).toThrow(/annotations.destructiveHint must be stated/);
    expect(() => bad({ annotations: { ...ANNOTATIONS.read, destructiveHint: true } })).toThrow(/read-only tool cannot be destructive/);
    expect(() => defineNativeConnector({ ...spec, tools: [good, good] })).toThrow(/defined twice/);
    expect(() => defineNativeConnector({ ...spec, auth_types: ['oauth2'] })).toThrow(/oauth endpoints/);
  });
});
