import { z } from 'zod';

/**
 * Stable error codes. They cross the bus and the HTTP API as strings, so callers
 * switch on them instead of on classes (instanceof does not survive a process boundary).
 */
export const ErrorCode = z.enum([
  'INVALID_ARGUMENT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'FAILED_PRECONDITION',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RESOURCE_EXHAUSTED',
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'INTERNAL',
  // Denial reasons of a tool call: each is searchable in the audit trail.
  'TOOL_NOT_FOUND',
  'ACCOUNT_NOT_ACTIVE',
  'TOKEN_REVOKED',
  'CONFIG_NOT_FOUND',
  'UPSTREAM_ERROR',
  // The agent cancelled the call (notifications/cancelled) or went away before its answer.
  'CANCELLED',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The error body on the bus and in HTTP replies. Messages never contain a secret. */
export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string().max(2000),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export const ErrorReply = z.object({ error: ErrorBody });
export type ErrorReply = z.infer<typeof ErrorReply>;

export class VmcpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'VmcpError';
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message };
  }

  static fromBody(body: ErrorBody): VmcpError {
    return new VmcpError(body.code, body.message);
  }
}

export function isVmcpError(err: unknown): err is VmcpError {
  return err instanceof VmcpError;
}

/** HTTP status for each code; exhaustive so a new code cannot be forgotten. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'INVALID_ARGUMENT':
      return 400;
    case 'UNAUTHENTICATED':
    case 'TOKEN_REVOKED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
    case 'TOOL_NOT_FOUND':
    case 'CONFIG_NOT_FOUND':
      return 404;
    case 'ALREADY_EXISTS':
      return 409;
    case 'FAILED_PRECONDITION':
    case 'ACCOUNT_NOT_ACTIVE':
      return 412;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'RESOURCE_EXHAUSTED':
      return 429;
    case 'CANCELLED':
      // The client gave up on its own request (gRPC's CANCELLED, nginx's non-standard 499).
      // 408 is the standard status for "the client did not see the exchange through"; 409
      // would claim a conflict with the resource's state, which there is none of.
      return 408;
    case 'INTERNAL':
      return 500;
    case 'UPSTREAM_ERROR':
      return 502;
    case 'UNAVAILABLE':
      return 503;
    case 'DEADLINE_EXCEEDED':
      return 504;
  }
}
