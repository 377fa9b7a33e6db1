import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { isModernVersion, isObject, isRpcId, requestError, type RpcId } from './json-rpc.js';
import { mcpErrorOf } from './mcp-errors.js';

/**
 * A 2025-era `tools/call` the edge answers itself, without a per-request SDK server: the
 * commonest request by far, and the SDK's server, transport and web bridge were about a
 * quarter of the edge's CPU per call (README, Performance).
 */
export interface PlainToolsCall {
  readonly id: RpcId;
  readonly name: string;
  readonly arguments: Record<string, unknown>;
}

const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params']);
const PARAMS_KEYS = new Set(['name', 'arguments']);

/**
 * The call, when the request is one request with a tool name and arguments and nothing
 * else: no `_meta` (no progress token, no 2026-07-28 envelope), no 2026-07-28 header, an
 * Accept header the SDK's transport takes. Anything else is undefined and the SDK's: a
 * request qualifies only where the SDK would take it exactly as it is.
 */
export function plainToolsCall(body: unknown, header: (name: string) => string | null): PlainToolsCall | undefined {
  if (!isObject(body) || body['jsonrpc'] !== '2.0' || body['method'] !== 'tools/call' || !onlyKeys(body, REQUEST_KEYS)) return undefined;
  const { id, params } = body;
  if (!isRpcId(id) || !isObject(params) || !onlyKeys(params, PARAMS_KEYS)) return undefined;
  const { name, arguments: args } = params;
  if (typeof name !== 'string' || (args !== undefined && !isObject(args))) return undefined;
  // The SDK's parse drops an own `__proto__` key from the arguments; such a call is its to serve.
  if (args !== undefined && Object.hasOwn(args, '__proto__')) return undefined;
  const accept = header('accept') ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) return undefined;
  if (header('mcp-method') !== null || header('mcp-name') !== null || isModernVersion(header('mcp-protocol-version'))) return undefined;
  return { id, name, arguments: args ?? {} };
}

/**
 * The answer to a plain call, as the SDK's server sends it: the result as the 2025-11-25
 * schema reads it (unknown keys dropped; a result it refuses is -32602), or the vmcp
 * error's JSON-RPC code and `data.code`. An unexpected error says nothing of itself.
 */
export function plainCallAnswer(id: RpcId, outcome: { result: unknown } | { error: unknown }) {
  if ('result' in outcome) {
    const result = CallToolResultSchema.safeParse(outcome.result);
    if (!result.success) return requestError(id, -32602, `Invalid tools/call result: ${String(result.error)}`);
    return { result: result.data, jsonrpc: '2.0', id };
  }
  const { code, message, data } = mcpErrorOf(outcome.error);
  return requestError(id, code, message, data);
}

function onlyKeys(value: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const key in value) if (!allowed.has(key)) return false;
  return true;
}
