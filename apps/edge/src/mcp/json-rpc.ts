/** A JSON-RPC request id: a string, or an integer JSON-RPC parsers read exactly (the SDK's own check). */
export type RpcId = string | number;

export function isRpcId(value: unknown): value is RpcId {
  return typeof value === 'string' || Number.isSafeInteger(value);
}

/**
 * An error answer as the SDK's transport writes one (a refusal of the HTTP request:
 * `jsonrpc`, `error`, `id`). `id` is null when no single request is answered.
 */
export function jsonRpcError(code: number, message: string, id: RpcId | null = null, data?: Record<string, unknown>) {
  return { jsonrpc: '2.0', error: { code, message, ...(data ? { data } : {}) }, id };
}

/** An error answer as the SDK's protocol layer writes one (a request's own answer: `jsonrpc`, `id`, `error`). */
export function requestError(id: RpcId, code: number, message: string, data?: Record<string, unknown>) {
  return { jsonrpc: '2.0', id, error: { code, message, ...(data ? { data } : {}) } };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The first modern revision is 2026-07-28; later ones sort after it. */
export function isModernVersion(version: string | null): boolean {
  return version !== null && version >= '2026-07-28';
}
