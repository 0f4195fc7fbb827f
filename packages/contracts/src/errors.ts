/**
 * Machine-readable error codes. They travel in NATS error replies and in SSE `error` events, and
 * map to HTTP statuses at the gateway.
 */
export const ERROR_CODES = {
  INVALID_REQUEST: 'INVALID_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA: 'UNSUPPORTED_MEDIA',
  NO_SPEECH: 'NO_SPEECH',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  SERVICE_BUSY: 'SERVICE_BUSY',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** The message broker (NATS) is unreachable or restarting: nobody's mistake, retry shortly. */
  BROKER_UNAVAILABLE: 'BROKER_UNAVAILABLE',
  MODEL_NOT_LOADED: 'MODEL_NOT_LOADED',
  TIMEOUT: 'TIMEOUT',
  CANCELLED: 'CANCELLED',
  ENGINE_FAILED: 'ENGINE_FAILED',
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA: 415,
  NO_SPEECH: 422,
  TOO_MANY_REQUESTS: 429,
  SERVICE_BUSY: 503,
  SERVICE_UNAVAILABLE: 503,
  BROKER_UNAVAILABLE: 503,
  MODEL_NOT_LOADED: 503,
  TIMEOUT: 504,
  CANCELLED: 499,
  ENGINE_FAILED: 502,
  INTERNAL: 500,
};

/**
 * Seconds a client should wait before retrying (the HTTP `Retry-After` header) for errors that
 * pass on their own: a broker restart, a full queue, a model still loading.
 */
export const RETRY_AFTER_SECONDS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  BROKER_UNAVAILABLE: 5,
  SERVICE_BUSY: 2,
  MODEL_NOT_LOADED: 10,
};

/** The error shape carried over NATS (as the RpcException payload) and in SSE `error` events. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** An error with a code, thrown by use cases and adapters on both sides of the broker. */
export class ParleyError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ParleyError';
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message };
  }

  static isErrorBody(value: unknown): value is ErrorBody {
    return (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as ErrorBody).code === 'string' &&
      (value as ErrorBody).code in ERROR_CODES &&
      typeof (value as ErrorBody).message === 'string'
    );
  }

  /** Turns anything thrown (a remote error body, a ParleyError, an Error) into a ParleyError. */
  static from(error: unknown, fallback: ErrorCode = 'INTERNAL'): ParleyError {
    if (error instanceof ParleyError) return error;
    if (ParleyError.isErrorBody(error)) return new ParleyError(error.code, error.message);
    const message = error instanceof Error ? error.message : String(error);
    return new ParleyError(fallback, message);
  }
}
