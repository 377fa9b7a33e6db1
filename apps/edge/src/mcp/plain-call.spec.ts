import { InMemoryTransport, Server, type JSONRPCMessage } from '@modelcontextprotocol/server';
import { VmcpError } from '@vmcp/contracts';
import { describe, expect, it } from 'vitest';
import { toMcpError } from './mcp-errors.js';
import { plainCallAnswer, plainToolsCall } from './plain-call.js';

/** What the SDK's own server (as the edge builds it per request) answers to a tools/call whose handler returns or throws this. */
async function sdkAnswer(id: string | number, outcome: { result: unknown } | { error: unknown }): Promise<JSONRPCMessage> {
  const server = new Server({ name: 'parity', version: '1' }, { capabilities: { tools: {} } });
  server.setRequestHandler('tools/call', () => {
    if ('error' in outcome) throw outcome.error;
    return outcome.result as never;
  });
  const [client, serverSide] = InMemoryTransport.createLinkedPair();
  const answer = new Promise<JSONRPCMessage>((resolve) => (client.onmessage = resolve));
  await server.connect(serverSide);
  await client.start();
  await client.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'any', arguments: {} } });
  try {
    return await answer;
  } finally {
    await server.close();
  }
}

const ACCEPT = { accept: 'application/json, text/event-stream' };
const headersOf =
  (headers: Record<string, string> = ACCEPT) =>
  (name: string): string | null =>
    headers[name] ?? null;
const call = (params: unknown, extra: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params, ...extra });

describe('plain tools/call', () => {
  it('takes one request with a name and arguments, or a name alone', () => {
    expect(plainToolsCall(call({ name: 'echo', arguments: { text: 'x' } }), headersOf())).toEqual({ id: 1, name: 'echo', arguments: { text: 'x' } });
    expect(plainToolsCall({ ...call({ name: 'image' }), id: 'a-1' }, headersOf())).toEqual({ id: 'a-1', name: 'image', arguments: {} });
    expect(plainToolsCall(call({ name: 'echo' }), headersOf({ ...ACCEPT, 'mcp-protocol-version': '2025-11-25' }))).toBeDefined();
  });

  it.each([
    ['a batch', [call({ name: 'echo' })]],
    ['another method', { jsonrpc: '2.0', id: 1, method: 'tools/list' }],
    ['a notification', { jsonrpc: '2.0', method: 'tools/call', params: { name: 'echo' } }],
    ['a fractional id', { ...call({ name: 'echo' }), id: 1.5 }],
    ['an id past the safe integers', { ...call({ name: 'echo' }), id: 2 ** 53 }],
    ['null arguments', call({ name: 'echo', arguments: null })],
    ['arguments with an own __proto__ key', JSON.parse('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"__proto__":{"x":1},"a":1}}}')],
    ['a null id', { ...call({ name: 'echo' }), id: null }],
    ['another JSON-RPC version', { ...call({ name: 'echo' }), jsonrpc: '1.0' }],
    ['a key JSON-RPC does not define', call({ name: 'echo' }, { extra: 1 })],
    ['no params', { jsonrpc: '2.0', id: 1, method: 'tools/call' }],
    ['a name that is not a string', call({ name: 7 })],
    ['arguments that are not an object', call({ name: 'echo', arguments: ['x'] })],
    ['a progress token', call({ name: 'echo', _meta: { progressToken: 1 } })],
    ['an empty _meta', call({ name: 'echo', _meta: {} })],
    ['a task', call({ name: 'echo', task: { ttl: 1 } })],
  ])('leaves %s to the SDK', (_case, body) => {
    expect(plainToolsCall(body, headersOf())).toBeUndefined();
  });

  it.each([
    ['no Accept header', {}],
    ['an Accept without SSE', { accept: 'application/json' }],
    ['a 2026-07-28 version header', { ...ACCEPT, 'mcp-protocol-version': '2026-07-28' }],
    ['an Mcp-Method header', { ...ACCEPT, 'mcp-method': 'tools/call' }],
    ['an Mcp-Name header', { ...ACCEPT, 'mcp-name': 'echo' }],
  ])('leaves a request with %s to the SDK', (_case, headers) => {
    expect(plainToolsCall(call({ name: 'echo' }), headersOf(headers))).toBeUndefined();
  });

  it.each([
    ['a text result', { content: [{ type: 'text', text: 'hi' }] }],
    ['structured content and isError', { structuredContent: { a: 1 }, isError: false, content: [] }],
    ['unknown keys in blocks, annotations and the result', { content: [{ type: 'text', text: 'x', extra: 1, annotations: { audience: ['user'], foo: 1 } }], extraTop: 2 }],
    ['an embedded resource with an unknown key', { content: [{ type: 'resource', resource: { uri: 'a:b', text: 't', zz: 1 } }] }],
    ['a result _meta', { content: [], _meta: { 'vendor.example/trace': 'abc' } }],
    ['a block without its text', { content: [{ type: 'text' }] }],
    ['a malformed progress token in _meta', { content: [{ type: 'text', text: 'x' }], _meta: { progressToken: { a: 1 } } }],
  ])('answers %s exactly as the SDK server does', async (_case, result) => {
    const plain = plainCallAnswer(7, { result });
    expect(JSON.stringify(plain)).toBe(JSON.stringify(await sdkAnswer(7, { result })));
  });

  it.each([
    ['TOOL_NOT_FOUND', new VmcpError('TOOL_NOT_FOUND', 'no tool named nope')],
    ['CANCELLED', new VmcpError('CANCELLED', 'the call was cancelled by the client')],
    ['UPSTREAM_ERROR', new VmcpError('UPSTREAM_ERROR', 'the upstream failed')],
  ])('answers %s with the JSON-RPC code and data.code the SDK server sends', async (_code, error) => {
    const plain = plainCallAnswer('x', { error });
    // The SDK path throws the mapped error (virtual-server.factory.ts).
    expect(JSON.stringify(plain)).toBe(JSON.stringify(await sdkAnswer('x', { error: toMcpError(error.code, error.message) })));
    expect(plain).toMatchObject({ error: { data: { code: error.code } } });
  });

  it('never passes on the text of an unexpected error', () => {
    expect(plainCallAnswer(6, { error: new Error('secret detail at /srv/x') })).toEqual({
      jsonrpc: '2.0',
      id: 6,
      error: { code: -32603, message: 'Internal error', data: { code: 'INTERNAL' } },
    });
  });
});
