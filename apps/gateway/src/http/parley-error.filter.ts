import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { HTTP_STATUS_BY_CODE, ParleyError } from '@parley/contracts';
import { errorBodyFor, requestPath } from './error-body.js';

/** ParleyErrors leave the gateway in the route family's error shape, with the status their code maps to. */
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
    res.status(statusCode).json(errorBodyFor(requestPath(req), statusCode, error.code, error.message));
  }
}
