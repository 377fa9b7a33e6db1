import { ErrorCode as JsonRpcCode } from '@modelcontextprotocol/sdk/types.js';
import { isVmcpError, type ErrorCode } from '@vmcp/contracts';

/**
 * A JSON-RPC error as the SDK's protocol layer sends it (`code`, `message`, `data`). Not
 * the SDK's McpError: that one prefixes its message with "MCP error <code>: ", and the
 * client's McpError prefixes it again, so agents read the prefix twice.
 */
export class GatewayRpcError extends Error {
  override name = 'GatewayRpcError';
  constructor(
    readonly code: number,
    message: string,
    readonly data: { code: ErrorCode },
  ) {
    super(message);
  }
}

/**
 * The JSON-RPC error an agent gets for each vmcp code. `data.code` carries the stable
 * vmcp code so clients can switch on it. TOOL_NOT_FOUND covers unmapped and non-existent
 * tools alike, so the error says nothing about what exists upstream.
 */
export function toMcpError(code: ErrorCode, message: string): GatewayRpcError {
  return new GatewayRpcError(jsonRpcCodeOf(code), message, { code });
}

/** What the agent gets for an error a call ended with: a vmcp error's code and message; of any other, nothing but that it happened. */
export function mcpErrorOf(err: unknown): GatewayRpcError {
  return isVmcpError(err) ? toMcpError(err.code, err.message) : toMcpError('INTERNAL', 'Internal error');
}

/**
 * A cancelled request. JSON-RPC and MCP define no code for it (MCP's receiver should not
 * answer, which the SDK does when it saw the cancellation itself). A 2025-era cancellation
 * arrives as a separate POST, so the call's stream still ends with this error (LSP's
 * RequestCancelled); the client, having dropped the request, ignores it.
 */
export const REQUEST_CANCELLED = -32800;

function jsonRpcCodeOf(code: ErrorCode): number {
  switch (code) {
    case 'TOOL_NOT_FOUND':
    case 'INVALID_ARGUMENT':
      return JsonRpcCode.InvalidParams;
    case 'ACCOUNT_NOT_ACTIVE':
    case 'TOKEN_REVOKED':
    case 'CONFIG_NOT_FOUND':
    case 'FORBIDDEN':
    case 'UNAUTHENTICATED':
    case 'NOT_FOUND':
    case 'ALREADY_EXISTS':
    case 'FAILED_PRECONDITION':
    case 'PAYLOAD_TOO_LARGE':
    case 'UNSUPPORTED_MEDIA_TYPE':
    case 'RESOURCE_EXHAUSTED':
      return JsonRpcCode.InvalidRequest;
    case 'UNAVAILABLE':
    case 'DEADLINE_EXCEEDED':
    case 'INTERNAL':
    case 'UPSTREAM_ERROR':
      return JsonRpcCode.InternalError;
    case 'CANCELLED':
      return REQUEST_CANCELLED;
  }
}
