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

/** No reply within `timeoutMs`, on the last attempt. */
export class VmcpTimeoutError extends VmcpError {}

/** The edge could not be reached (refused, reset, DNS), on the last attempt. */
export class VmcpConnectionError extends VmcpError {}
