import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode as JsonRpcCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { isVmcpError, VmcpError } from '@vmcp/contracts';
import { StoppedError } from '../shared/deadline.js';
import { sanitizeUpstreamText } from '../shared/sanitize.js';

/** What went wrong talking to an upstream, in the terms that decide what to do next. */
export type UpstreamFailure =
  | { readonly kind: 'vmcp'; readonly error: VmcpError }
  | { readonly kind: 'deadline' }
  | { readonly kind: 'cancelled' }
  /** The upstream answered with an HTTP error status instead of a JSON-RPC message. */
  | { readonly kind: 'http'; readonly status: number }
  /** No HTTP answer; `sent` is false when the connection was never made, so nothing reached the upstream. */
  | { readonly kind: 'unreachable'; readonly sent: boolean }
  /** A JSON-RPC error the upstream returned. */
  | { readonly kind: 'rpc'; readonly code: number; readonly message: string }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'unknown' };

export type UpstreamOperation = 'list' | 'call';

/** An upstream answer that is not what the MCP schema says it must be. */
export class MalformedAnswerError extends Error {
  constructor(what: string) {
    super(`malformed ${what}`);
    this.name = 'MalformedAnswerError';
  }
}

// Errors from establishing a TCP/TLS connection: the request was never written.
const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
]);

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Happy eyeballs reports every address it tried.
  const first = (err as { errors?: unknown[] }).errors?.[0];
  return first === undefined ? undefined : errorCode(first);
}

export function classifyFailure(err: unknown): UpstreamFailure {
  if (isVmcpError(err)) return { kind: 'vmcp', error: err };
  if (err instanceof StoppedError) return { kind: err.reason };
  if (err instanceof StreamableHTTPError) {
    // -1: an answer that is neither JSON nor an event stream.
    return err.code !== undefined && err.code > 0 ? { kind: 'http', status: err.code } : { kind: 'malformed' };
  }
  if (err instanceof McpError) {
    // The SDK reports its own closed connection as an McpError; nothing came from the upstream.
    if (err.code === JsonRpcCode.ConnectionClosed && /^MCP error -32000: Connection closed$/.test(err.message)) {
      return { kind: 'unreachable', sent: true };
    }
    return { kind: 'rpc', code: err.code, message: err.message };
  }
  if (err instanceof TypeError && err.message === 'fetch failed') {
    return { kind: 'unreachable', sent: !CONNECT_ERRORS.has(errorCode(err.cause) ?? '') };
  }
  if (err instanceof Error) {
    // The SDK refuses to send on a client whose transport is gone: nothing was sent.
    if (err.message === 'Not connected') return { kind: 'unreachable', sent: false };
    if (err.name === 'AbortError') return { kind: 'unreachable', sent: true };
    if (err instanceof MalformedAnswerError || err instanceof SyntaxError) return { kind: 'malformed' };
  }
  return { kind: 'unknown' };
}

/** Whether the pooled session can no longer be trusted and must be replaced. */
export function sessionIsBroken(f: UpstreamFailure): boolean {
  return (f.kind === 'http' && (f.status === 404 || f.status === 401 || f.status === 403)) || f.kind === 'unreachable';
}

/**
 * Whether one retry on a fresh session is safe and worth it. Listing tools changes
 * nothing, so any broken session may be replaced. A call is retried only when the
 * upstream cannot have run it: the session was unknown (404) or the credential refused
 * (401), both answered before any tool runs, or the request never left this process.
 */
export function shouldRetry(operation: UpstreamOperation, f: UpstreamFailure): boolean {
  if (f.kind === 'http') return f.status === 404 || f.status === 401;
  if (f.kind === 'unreachable') return operation === 'list' || !f.sent;
  return false;
}

// Moved to shared/ so native connectors use the same rules; re-exported for this folder's callers.
export { sanitizeUpstreamText } from '../shared/sanitize.js';

/** The error the caller sees: a stable code, the connection's name, no URL, header or secret. */
export function toVmcpError(f: UpstreamFailure, connectionName: string, secrets: readonly string[]): VmcpError {
  const upstream = `upstream of connection "${connectionName}"`;
  switch (f.kind) {
    case 'vmcp':
      return f.error;
    case 'deadline':
      return new VmcpError('DEADLINE_EXCEEDED', `${upstream} did not answer in time`);
    case 'cancelled':
      return new VmcpError('CANCELLED', `the call to the ${upstream} was cancelled`);
    case 'http':
      if (f.status === 401 || f.status === 403) return new VmcpError('UPSTREAM_ERROR', `${upstream} refused the credential (HTTP ${f.status})`);
      if (f.status === 502 || f.status === 503 || f.status === 504) return new VmcpError('UNAVAILABLE', `${upstream} is unavailable (HTTP ${f.status})`);
      return new VmcpError('UPSTREAM_ERROR', `${upstream} answered HTTP ${f.status}`);
    case 'unreachable':
      return new VmcpError('UNAVAILABLE', `${upstream} is unavailable`);
    case 'rpc': {
      const said = sanitizeUpstreamText(f.message, secrets);
      return new VmcpError('UPSTREAM_ERROR', said ? `${upstream} returned an error: ${said}` : `${upstream} returned error ${f.code}`);
    }
    case 'malformed':
      return new VmcpError('UPSTREAM_ERROR', `${upstream} sent a malformed answer`);
    case 'unknown':
      return new VmcpError('UPSTREAM_ERROR', `${upstream} failed`);
  }
}
