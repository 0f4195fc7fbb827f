import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { HTTP_STATUS_BY_CODE, ParleyError } from '@parley/contracts';

/** ParleyErrors leave the gateway in NestJS's error shape, with the status their code maps to. */
@Catch(ParleyError)
export class ParleyErrorFilter implements ExceptionFilter {
  catch(error: ParleyError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) {
      res.end();
      return;
    }
    const statusCode = HTTP_STATUS_BY_CODE[error.code];
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
