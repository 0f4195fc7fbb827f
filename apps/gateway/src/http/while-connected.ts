import type { Response } from 'express';
import { ParleyError } from '@parley/contracts';
import type { Observable } from 'rxjs';
import { trackedUntilShutdown } from '../shutdown/gateway-drain.js';

/**
 * The last value of `source`, for blocking routes; if the client goes away first, the
 * subscription is dropped (which cancels the work upstream: generation, synthesis, ...). A replica
 * shutting down waits for it (and past its grace period fails it with SERVICE_UNAVAILABLE).
 */
export function lastValueWhileConnected<T>(res: Response, source: Observable<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let last: { value: T } | undefined;
    const subscription = trackedUntilShutdown(res, source).subscribe({
      next: (value) => (last = { value }),
      error: reject,
      complete: () => (last ? resolve(last.value) : reject(new ParleyError('INTERNAL', 'no result'))),
    });
    res.on('close', () => {
      if (res.writableFinished || subscription.closed) return;
      subscription.unsubscribe();
      reject(new ParleyError('CANCELLED', 'the client went away'));
    });
  });
}
