import { Catch, HttpException, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ERROR_CODES, type ErrorCode } from '@parley/contracts';
import type { GatewayConfig } from '../config.js';
import { GATEWAY_CONFIG } from '../tokens.js';
import { errorBodyFor, requestPath } from './error-body.js';

/** What the body parser and multer attach to the errors NestJS wraps (the `cause`). */
interface FrameworkCause {
  type?: string;
  code?: string;
  field?: string;
  limit?: number;
  length?: number;
}

/**
 * A framework error's message in words that say what to fix: the body parser's and multer's own
 * ("Unexpected end of JSON input", "request entity too large", "File too large") name neither the
 * problem nor the limit. Undefined: keep the framework's message.
 */
export function explainFrameworkError(cause: FrameworkCause | undefined, message: string, uploadMaxBytes: number): string | undefined {
  if (cause?.type === 'entity.parse.failed') return `the request body is not valid JSON (a JSON object is expected): ${message}`;
  if (cause?.type === 'entity.too.large') {
    return `the request body is too large: ${cause.length ?? 'more than'} bytes, the limit is ${cause.limit} bytes (send audio as a multipart upload)`;
  }
  if (cause?.code?.startsWith('Z_')) {
    return `the request body could not be decompressed: it does not match its Content-Encoding; send it uncompressed, or compressed as the header says`;
  }
  if (cause?.code === 'LIMIT_FILE_SIZE') {
    return `the uploaded file is too large: the limit is ${uploadMaxBytes} bytes (${Math.round(uploadMaxBytes / 2 ** 20)} MiB, UPLOAD_MAX_BYTES)`;
  }
  if (cause?.code === 'LIMIT_UNEXPECTED_FILE') {
    return `unexpected file field '${cause.field}': this route takes no file under that name (send text as ordinary form fields)`;
  }
  return undefined;
}

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
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  catch(exception: HttpException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    const status = exception.getStatus();
    const body = exception.getResponse();
    const message =
      typeof body === 'object' && body !== null && 'message' in body
        ? [(body as { message: unknown }).message].flat().join('; ')
        : exception.message;
    const explained = explainFrameworkError(exception.cause as FrameworkCause | undefined, message, this.config.uploadMaxBytes) ?? message;
    res.status(status).json(errorBodyFor(requestPath(req), status, codeForStatus(status), explained));
  }
}
