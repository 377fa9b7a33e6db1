import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { httpStatusOf, isVmcpError, VmcpError, type ErrorCode } from '@vmcp/contracts';
import type { Logger } from '@vmcp/telemetry';
import type { Response } from 'express';

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'INVALID_ARGUMENT';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'ALREADY_EXISTS';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 503:
      return 'UNAVAILABLE';
    default:
      return status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT';
  }
}

/** Turns any failure into the API's `{error: {code, message}}` with the code's HTTP status. */
export function toVmcpError(exception: unknown): VmcpError {
  if (isVmcpError(exception)) return exception;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const message = status === 404 ? 'no such route' : exception.message;
    return new VmcpError(codeForStatus(status), message);
  }
  return new VmcpError('INTERNAL', 'internal error');
}

@Catch()
export class HttpErrorsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const error = toVmcpError(exception);
    if (error.code === 'INTERNAL') {
      this.logger.error({ err: exception instanceof Error ? exception.message : String(exception) }, 'unhandled error');
    }
    if (res.headersSent) return;
    res.status(httpStatusOf(error.code)).json({ error: error.toBody() });
  }
}
