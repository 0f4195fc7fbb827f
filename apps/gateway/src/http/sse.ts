import type { Response } from 'express';
import { ParleyError, type TurnEvent } from '@parley/contracts';
import { catchError, of, throwError, type Observable } from 'rxjs';
import { endingOnce, errorEvent } from '../conversation/turn/turn-events.js';
import { trackedUntilShutdown } from '../shutdown/gateway-drain.js';
import { openEventStream } from './event-stream.js';

/** An error event names the request (as the X-Request-Id header does) so a report can quote it. */
function withRequestId(event: TurnEvent, res: Response): TurnEvent['data'] {
  const requestId = res.getHeader('X-Request-Id');
  return event.event === 'error' && typeof requestId === 'string' ? { ...event.data, request_id: requestId } : event.data;
}

/**
 * Writes a turn's events to an HTTP response as Server-Sent Events, each flushed as soon as it
 * exists, ending with exactly one terminal event (`endingOnce`). When the client goes away, the
 * subscription is dropped, which cancels the work upstream. A replica shutting down waits for
 * the turn, and past its grace period ends it with its own error event (code and message kept).
 */
export function writeSse(res: Response, events: Observable<TurnEvent>): void {
  openEventStream(res);

  const tracked = trackedUntilShutdown(res, events).pipe(
    catchError((error: unknown) => (error instanceof ParleyError ? of(errorEvent(error)) : throwError(() => error))),
  );
  const subscription = endingOnce(tracked).subscribe({
    next: (event) => res.write(`event: ${event.event}\ndata: ${JSON.stringify(withRequestId(event, res))}\n\n`),
    complete: () => res.end(),
  });
  // `res` closes when the client disconnects (req's close fires as soon as a POST body is read).
  res.on('close', () => {
    if (!res.writableFinished) subscription.unsubscribe();
  });
}
