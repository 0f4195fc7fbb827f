import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { HTTP_STATUS_BY_CODE, ParleyError, RETRY_AFTER_SECONDS_BY_CODE } from '@parley/contracts';
import { errorBodyFor, requestPath } from './error-body.js';

/** ParleyErrors leave the gateway in the route family's error shape, with the status their code maps to (and Retry-After when waiting helps). */
@Catch(ParleyError)
export class ParleyErrorFilter implements ExceptionFilter {
  catch(error: ParleyError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    if (res.headersSent) {
      res.end();
      return;
    }
    const statusCode = HTTP_STATUS_BY_CODE[error.code];
    // Errors that pass on their own (broker restart, full queue, model loading) say when to retry.
    const retryAfter = RETRY_AFTER_SECONDS_BY_CODE[error.code];
    if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
    res.status(statusCode).json(errorBodyFor(requestPath(req), statusCode, error.code, error.message));
  }
}
