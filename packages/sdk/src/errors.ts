import type { ErrorCode } from './types.js';

/**
 * Every failure of the SDK is one of these, so `catch (e) { if (e instanceof VmcpError) … }`
 * separates vmcp's failures from bugs in the caller's own code. Messages never contain the
 * API key.
 */
export class VmcpError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The API answered with an error: `{"error": {"code", "message"}}` and an HTTP status.
 * Switch on `code`, which is stable; `status` is the HTTP status of the reply (200 for an
 * error the export stream reports after its first line, when the status was already sent).
 * Over NATS, where replies have no status, it is the status the REST API gives that code,
 * so code that looks at `status` behaves the same over both transports.
 * A server newer than this SDK may send a code the `ErrorCode` union does not list yet.
 */
export class VmcpApiError extends VmcpError {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    /** How long the server asked to wait before trying again (`Retry-After`), when it said. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * The HTTP status the REST API answers a code with (the edge's httpStatusOf, which the
 * bus API drift test keeps this equal to): the `status` of an error that came over NATS.
 */
export function statusOfCode(code: ErrorCode): number {
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
    case 'CANCELLED':
      return 408;
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
    case 'INTERNAL':
      return 500;
    case 'UPSTREAM_ERROR':
      return 502;
    case 'UNAVAILABLE':
      return 503;
    case 'DEADLINE_EXCEEDED':
      return 504;
    default:
      // Exhaustive: a code added to the API fails the build here until it has a status.
      return newerCode(code);
  }
}

/** At run time, a code newer than this SDK: read as a server failure (not retried for it). */
function newerCode(_code: never): number {
  return 500;
}

/** No reply within `timeoutMs`, on the last attempt. */
export class VmcpTimeoutError extends VmcpError {}

/**
 * The edge could not be reached (refused, reset, DNS), on the last attempt. Over NATS:
 * nothing serves the subject (no responders: the edge is down or runs without the bus API),
 * or the connection is closed or draining.
 */
export class VmcpConnectionError extends VmcpError {}
