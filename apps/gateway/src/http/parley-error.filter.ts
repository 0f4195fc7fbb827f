import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { HTTP_STATUS_BY_CODE, ParleyError, RETRY_AFTER_SECONDS_BY_CODE } from '@parley/contracts';

/** ParleyErrors leave the gateway in NestJS's error shape, with the status their code maps to (and Retry-After when waiting helps). */
@Catch(ParleyError)
export class ParleyErrorFilter implements ExceptionFilter {
  catch(error: ParleyError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) {
      res.end();
      return;
    }
    const statusCode = HTTP_STATUS_BY_CODE[error.code];
    // Errors that pass on their own (broker restart, full queue, model loading) say when to retry.
    const retryAfter = RETRY_AFTER_SECONDS_BY_CODE[error.code];
    if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
    const reason = HttpStatus[statusCode] ?? 'Error';
    res.status(statusCode).json({
      statusCode,
      error: reason
        .toLowerCase()
        .split('_')
        .map((word) => word[0]!.toUpperCase() + word.slice(1))
        .join(' '),
      message: error.message,
      code: error.code,
    });
  }
}
