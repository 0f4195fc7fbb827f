import type { Response } from 'express';
import { TERMINAL_EVENTS, type SseEvent } from '@parley/contracts';
import type { Observable } from 'rxjs';

/**
 * Writes an event stream to an HTTP response as Server-Sent Events, each flushed as soon as it
 * exists. Guarantees exactly one terminal event (`complete` or `error`): anything after the first is
 * dropped, and a stream that ends without one gets an `error`. When the client goes away, the
 * subscription is dropped, which cancels the work upstream.
 */
export function writeSse(res: Response, events: Observable<SseEvent>): void {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  res.socket?.setNoDelay(true);

  let ended = false;
  const write = (event: SseEvent) => {
    if (ended) return;
    res.write(`event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`);
    if (TERMINAL_EVENTS.includes(event.event)) {
      ended = true;
      res.end();
    }
  };
  const subscription = events.subscribe({
    next: write,
    error: (error: unknown) =>
      write({ event: 'error', data: { error: `internal error: ${String(error)}`, code: 'INTERNAL' } }),
    complete: () => write({ event: 'error', data: { error: 'the stream ended without a result', code: 'INTERNAL' } }),
  });
  // `res` closes when the client disconnects (req's close fires as soon as a POST body is read).
  res.on('close', () => {
    if (!res.writableFinished) subscription.unsubscribe();
  });
}
