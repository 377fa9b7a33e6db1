import { createRequire } from 'node:module';
import { isVmcpError, type CallToolResult } from '@vmcp/contracts';
import { expect } from 'vitest';
import type { NativeConnectorDefinition } from './native-connector.definition.js';

// What every native connector's spec checks a result with (a fixture: not part of the build).

const require = createRequire(import.meta.url);
const Ajv2020 = (require('ajv/dist/2020') as { default: typeof import('ajv/dist/2020.js').default }).default;
const addFormats = (require('ajv-formats') as { default: typeof import('ajv-formats').default }).default;

/** A strict JSON Schema 2020-12 validator with formats, as MCP clients check schemas. */
export const ajv = addFormats(new Ajv2020({ strict: true, allErrors: true }));

/** The result's structured content, after checking it against the tool's output schema and the JSON text block. */
export function structuredResult(connector: NativeConnectorDefinition, name: string, result: CallToolResult): Record<string, unknown> {
  expect(result.isError, JSON.stringify(result.content)).toBeUndefined();
  const schema = connector.tool(name)?.outputSchema;
  expect(schema, `${name} has an output schema`).toBeDefined();
  const validate = ajv.compile(schema as object);
  const content = result.structuredContent as Record<string, unknown>;
  expect(validate(content), JSON.stringify(validate.errors)).toBe(true);
  expect(result.content).toEqual([{ type: 'text', text: JSON.stringify(content) }]);
  return content;
}

/** The text of an isError result. */
export function errorText(result: CallToolResult): string {
  expect(result.isError).toBe(true);
  return (result.content as Array<{ type: string; text?: string }>)[0]?.text ?? '';
}

/** The VmcpError a call failed with (the test fails if it did not fail with one). */
export async function vmcpError(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isVmcpError(err), String(err)).toBe(true);
  return err as { code: string; message: string };
}
