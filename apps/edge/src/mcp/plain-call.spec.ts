import { VmcpError } from '@vmcp/contracts';
import { describe, expect, it } from 'vitest';
import { plainCallAnswer, plainToolsCall } from './plain-call.js';

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

  it("answers with the result, or the vmcp error's JSON-RPC code and data", () => {
    const result = { content: [{ type: 'text', text: 'hi' }] };
    expect(plainCallAnswer(3, { result })).toEqual({ result, jsonrpc: '2.0', id: 3 });
    expect(plainCallAnswer('x', { error: new VmcpError('TOOL_NOT_FOUND', 'no tool named nope') })).toEqual({
      jsonrpc: '2.0',
      id: 'x',
      error: { code: -32602, message: 'no tool named nope', data: { code: 'TOOL_NOT_FOUND' } },
    });
    expect(plainCallAnswer(4, { error: new VmcpError('CANCELLED', 'the call was cancelled by the client') })).toMatchObject({ error: { code: -32800 } });
  });

  it('never passes on a result that is not a CallToolResult, nor the text of an unexpected error', () => {
    expect(plainCallAnswer(5, { result: { content: [{ type: 'text' }] } })).toEqual({
      jsonrpc: '2.0',
      id: 5,
      error: { code: -32602, message: 'Invalid tools/call result: not a CallToolResult' },
    });
    expect(plainCallAnswer(6, { error: new Error('secret detail at /srv/x') })).toEqual({ jsonrpc: '2.0', id: 6, error: { code: -32603, message: 'Internal error' } });
  });
});
