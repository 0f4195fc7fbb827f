import { RpcException } from '@nestjs/microservices';
import { ParleyError, type ErrorCode } from '@parley/contracts';
import { catchError, throwError, type Observable } from 'rxjs';

/** The error a NATS handler sends back: the ParleyError body, so the caller gets code and message. */
export function toRpcException(error: unknown, fallback: ErrorCode = 'ENGINE_FAILED'): RpcException {
  return new RpcException(ParleyError.from(error, fallback).toBody());
}

/** Runs a handler body, turning anything it throws into an RpcException with a code. */
export async function answerRpc<T>(handler: () => Promise<T> | T): Promise<T> {
  try {
    return await handler();
  } catch (error) {
    throw toRpcException(error);
  }
}

/** The same for a streaming handler's Observable. */
export function streamRpc<T>(stream: Observable<T>): Observable<T> {
  return stream.pipe(catchError((error: unknown) => throwError(() => toRpcException(error))));
}
