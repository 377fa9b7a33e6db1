import { httpStatusOf, VmcpError } from '@vmcp/contracts';
import { describeZodError } from '@vmcp/messaging';
import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';

/** Deeper documents than this are refused before any work (DESIGN invariant 8). */
export const MAX_JSON_DEPTH = 32;

export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  // Iterative so a hostile document cannot overflow the stack.
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [v, d] = next;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Object.values(v as Record<string, unknown>)) stack.push([child, d + 1]);
  }
  return max;
}

interface BodyParserError extends Error {
  type?: string;
}

/** Express error middleware right after the JSON parser: its failures become API errors. */
export function bodyErrors(err: BodyParserError, req: Request, res: Response, next: NextFunction): void {
  let error: VmcpError;
  switch (err.type) {
    case 'entity.too.large':
      error = new VmcpError('PAYLOAD_TOO_LARGE', 'request body is too large');
      break;
    case 'entity.parse.failed':
      error = new VmcpError('INVALID_ARGUMENT', 'request body is not valid JSON');
      break;
    case 'encoding.unsupported':
    case 'charset.unsupported':
      error = new VmcpError('UNSUPPORTED_MEDIA_TYPE', 'unsupported body encoding');
      break;
    default:
      return next(err);
  }
  if (req.path.startsWith('/mcp/')) {
    // MCP clients expect JSON-RPC: -32700 for a body that is not JSON, -32600 otherwise.
    const rpcCode = err.type === 'entity.parse.failed' ? -32700 : -32600;
    res.status(httpStatusOf(error.code)).json({ jsonrpc: '2.0', error: { code: rpcCode, message: error.message }, id: null });
    return;
  }
  res.status(httpStatusOf(error.code)).json({ error: error.toBody() });
}

/** Refuses too-deep JSON for every route, the MCP endpoint included. */
export function depthGuard(req: Request, res: Response, next: NextFunction): void {
  if (req.body !== undefined && jsonDepth(req.body) > MAX_JSON_DEPTH) {
    const message = `JSON nested deeper than ${MAX_JSON_DEPTH} levels`;
    res
      .status(400)
      .json(req.path.startsWith('/mcp/') ? { jsonrpc: '2.0', error: { code: -32600, message }, id: null } : { error: { code: 'INVALID_ARGUMENT', message } });
    return;
  }
  next();
}

function isJson(req: Request): boolean {
  return Boolean(req.is('application/json'));
}

/** Validates a JSON request body against a route's schema. */
export function parseBody<S extends z.ZodType>(schema: S, req: Request): z.output<S> {
  if (!isJson(req)) throw new VmcpError('UNSUPPORTED_MEDIA_TYPE', 'send Content-Type: application/json');
  const parsed = schema.safeParse(req.body);
  if (!parsed.success) throw new VmcpError('INVALID_ARGUMENT', describeZodError(parsed.error));
  return parsed.data;
}

/** Validates query parameters (single values only) against a route's schema. */
export function parseQuery<S extends z.ZodType>(schema: S, req: Request): z.output<S> {
  const query: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(req.query)) {
    if (Array.isArray(v) || (v !== undefined && typeof v !== 'string')) {
      throw new VmcpError('INVALID_ARGUMENT', `${k}: must be given once`);
    }
    query[k] = v;
  }
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw new VmcpError('INVALID_ARGUMENT', describeZodError(parsed.error));
  return parsed.data;
}

/** Validates one path parameter. */
export function parseParam<S extends z.ZodType>(schema: S, value: unknown, name: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new VmcpError('INVALID_ARGUMENT', `${name}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}
