import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ERROR_CODES, type ErrorCode } from '@parley/contracts';
import { errorBodyFor, requestPath } from './error-body.js';

/** Parley's code for a framework error's status (an unknown route, a malformed body, an upload too large...). */
function codeForStatus(status: number): ErrorCode {
  if (status === 404) return ERROR_CODES.NOT_FOUND;
  if (status === 413) return ERROR_CODES.PAYLOAD_TOO_LARGE;
  if (status === 415) return ERROR_CODES.UNSUPPORTED_MEDIA;
  if (status === 429) return ERROR_CODES.TOO_MANY_REQUESTS;
  if (status >= 500) return ERROR_CODES.INTERNAL;
  return ERROR_CODES.INVALID_REQUEST;
}

/**
 * The framework's own HTTP errors (NestJS's 404 for an unknown route, the body parser's 400, multer's
 * 413) in the route family's shape: OpenAI's under /v1, NestJS's (as before) elsewhere.
 */
@Catch(HttpException)
export class HttpExceptionFilter implements ExceptionFilter {
  catch(exception: HttpException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    const status = exception.getStatus();
    const body = exception.getResponse();
    const message =
      typeof body === 'object' && body !== null && 'message' in body
        ? [(body as { message: unknown }).message].flat().join('; ')
        : exception.message;
    res.status(status).json(errorBodyFor(requestPath(req), status, codeForStatus(status), message));
  }
}
