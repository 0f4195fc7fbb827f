import { AsyncLocalStorage } from 'node:async_hooks';
import { Observable, type MonoTypeOperatorFunction } from 'rxjs';

/**
 * The request id that follows one turn through all four services: created at the gateway (or
 * taken from the caller's X-Request-Id), returned in the response header, sent in the NATS
 * header of every request the turn makes, and written on every log line logged on its behalf.
 */
export const REQUEST_ID_HEADER = 'x-request-id';

/** What a caller may send as X-Request-Id (anything else is replaced by a new id). */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function newRequestId(): string {
  return crypto.randomUUID().replaceAll('-', '');
}

/** The caller's id when it is a sensible one, else a new one. */
export function acceptRequestId(candidate: unknown): string {
  return typeof candidate === 'string' && REQUEST_ID_PATTERN.test(candidate) ? candidate : newRequestId();
}

/** The id of the request being handled here, if any. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return storage.run({ requestId }, fn);
}

/**
 * Keeps the request context across a stream whose values arrive from elsewhere (a NATS
 * subscription, a native engine): the context at subscription is re-entered for every value,
 * error and completion, so whatever runs downstream (the next stage's request, a log line)
 * still knows the request.
 */
export function inRequestContext<T>(): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const context = storage.getStore();
      if (!context) return source.subscribe(subscriber);
      const within = (fn: () => void) => storage.run(context, fn);
      return source.subscribe({
        next: (value) => within(() => subscriber.next(value)),
        error: (error: unknown) => within(() => subscriber.error(error)),
        complete: () => within(() => subscriber.complete()),
      });
    });
}
