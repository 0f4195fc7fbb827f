import type { Response } from 'express';
import type { TurnEvent } from '@parley/contracts';
import type { Observable } from 'rxjs';
import { endingOnce } from '../conversation/turn/turn-events.js';
import { openEventStream } from './event-stream.js';

/**
 * Writes a turn's events to an HTTP response as Server-Sent Events, each flushed as soon as it
 * exists, ending with exactly one terminal event (`endingOnce`). When the client goes away, the
 * subscription is dropped, which cancels the work upstream.
 */
export function writeSse(res: Response, events: Observable<TurnEvent>): void {
  openEventStream(res);

  const subscription = endingOnce(events).subscribe({
    next: (event) => res.write(`event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`),
    complete: () => res.end(),
  });
  // `res` closes when the client disconnects (req's close fires as soon as a POST body is read).
  res.on('close', () => {
    if (!res.writableFinished) subscription.unsubscribe();
  });
}
