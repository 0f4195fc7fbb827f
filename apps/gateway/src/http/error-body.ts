import { HttpStatus } from '@nestjs/common';
import type { ErrorCode } from '@parley/contracts';

/**
 * The path a request was made to, whatever router it is in (Express strips a middleware's mount
 * path from `req.url`; `originalUrl` keeps it; a raw upgrade request has only `url`).
 */
export function requestPath(req: { url?: string; originalUrl?: string }): string {
  return (req.originalUrl ?? req.url ?? '/').split('?')[0]!;
}

/** The URL a request was made to (with its query), whatever router it is in. */
export function requestUrl(req: { url?: string; originalUrl?: string }): string {
  return req.originalUrl ?? req.url ?? '/';
}

/** True for the OpenAI-compatible routes, whose errors take OpenAI's shape. */
export function isOpenAiPath(path: string): boolean {
  return path === '/v1' || path.startsWith('/v1/');
}

/** NestJS's error shape (`{"statusCode","error","message"}`), plus Parley's machine code. */
export function nestErrorBody(statusCode: number, code: ErrorCode, message: string) {
  const reason = HttpStatus[statusCode] ?? 'Error';
  const error = reason
    .toLowerCase()
    .split('_')
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join(' ');
  return { statusCode, error, message, code };
}

/** The `code` OpenAI's clients know for the statuses where they look at it. */
const OPENAI_CODES: Partial<Record<ErrorCode, string>> = {
  UNAUTHORIZED: 'invalid_api_key',
  TOO_MANY_REQUESTS: 'rate_limit_exceeded',
};

/** OpenAI's error shape: `{"error":{"message","type","param","code"}}`. */
export function openAiErrorBody(statusCode: number, code: ErrorCode, message: string) {
  const type =
    statusCode === 401
      ? 'authentication_error'
      : statusCode === 429
        ? 'rate_limit_error'
        : statusCode >= 500
          ? 'server_error'
          : 'invalid_request_error';
  return { error: { message, type, param: null, code: OPENAI_CODES[code] ?? code.toLowerCase() } };
}

/** The error body for a route: OpenAI's shape under /v1, NestJS's elsewhere. */
export function errorBodyFor(path: string, statusCode: number, code: ErrorCode, message: string) {
  return isOpenAiPath(path) ? openAiErrorBody(statusCode, code, message) : nestErrorBody(statusCode, code, message);
}
