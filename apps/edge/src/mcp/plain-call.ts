import { isCallToolResult } from '@modelcontextprotocol/server';
import { isVmcpError, type CallToolResult } from '@vmcp/contracts';
import { toMcpError } from './mcp-errors.js';

type RpcId = string | number;

/**
 * A 2025-era `tools/call` in its plainest and most common form: one JSON-RPC request
 * with a tool name and arguments, nothing else (no `_meta`: no progress token, no
 * 2026-07-28 envelope), no 2026-07-28 headers, and an Accept header the SDK's transport
 * takes. The edge answers it in JSON itself instead of through a per-request SDK server
 * and transport (about a quarter of the edge's CPU per call: README, Performance); every other
 * request, and this one on a session that streams its calls (log level, sampling,
 * elicitation), is the SDK's. The checks are the SDK's own for this shape, so a request
 * it would refuse is never taken here.
 */
export interface PlainToolsCall {
  readonly id: RpcId;
  readonly name: string;
  readonly arguments: Record<string, unknown>;
}

const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params']);
const PARAMS_KEYS = new Set(['name', 'arguments']);

/** The call, when the request is one the edge answers itself; otherwise undefined (the SDK serves it). */
export function plainToolsCall(body: unknown, header: (name: string) => string | null): PlainToolsCall | undefined {
  if (!isObject(body) || body['jsonrpc'] !== '2.0' || body['method'] !== 'tools/call' || !onlyKeys(body, REQUEST_KEYS)) return undefined;
  const { id, params } = body;
  if (!(typeof id === 'string' || Number.isInteger(id)) || !isObject(params) || !onlyKeys(params, PARAMS_KEYS)) return undefined;
  const { name, arguments: args } = params;
  if (typeof name !== 'string' || (args !== undefined && !isObject(args))) return undefined;
  // The SDK's transport answers 406 to a client that does not take both; 2026-07-28
  // headers belong to the modern path (its version and header checks).
  const accept = header('accept') ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) return undefined;
  if (header('mcp-method') !== null || header('mcp-name') !== null) return undefined;
  const version = header('mcp-protocol-version');
  if (version !== null && version >= '2026-07-28') return undefined;
  return { id: id as RpcId, name, arguments: args ?? {} };
}

/** The JSON-RPC answer to a plain call, as the SDK's server would send it: the result, or the error the call ended with. */
export function plainCallAnswer(id: RpcId, outcome: { result: CallToolResult } | { error: unknown }): Record<string, unknown> {
  if ('result' in outcome) {
    // The SDK's server refuses a result that is not a CallToolResult of the spec; so does this.
    if (!isCallToolResult(outcome.result)) return errorAnswer(id, -32602, 'Invalid tools/call result: not a CallToolResult');
    return { result: outcome.result, jsonrpc: '2.0', id };
  }
  const { error } = outcome;
  if (!isVmcpError(error)) return errorAnswer(id, -32603, 'Internal error');
  const rpc = toMcpError(error.code, error.message);
  return errorAnswer(id, rpc.code, rpc.message, rpc.data);
}

function errorAnswer(id: RpcId, code: number, message: string, data?: unknown): Record<string, unknown> {
  return { jsonrpc: '2.0', id, error: { code, message, ...(data !== undefined ? { data } : {}) } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const key in value) if (!allowed.has(key)) return false;
  return true;
}
