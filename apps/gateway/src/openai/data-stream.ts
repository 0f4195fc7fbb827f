import type { Response } from 'express';
import type { Observable } from 'rxjs';
import { openEventStream } from '../http/event-stream.js';
import { trackedUntilShutdown } from '../shutdown/gateway-drain.js';

/**
 * OpenAI's streaming dialect of Server-Sent Events: `data: <json>` lines, and `data: [DONE]` after
 * the last one (or an `error` object instead when the work fails midway). Following an Observable
 * ties it to the response: when the client goes away, the subscription is dropped, cancelling the work.
 */
export function openDataStream(res: Response) {
  openEventStream(res);
  let ended = false;
  const end = (last: string) => {
    if (ended) return;
    ended = true;
    res.end(last);
  };
  return {
    write(data: object): void {
      if (!ended) res.write(`data: ${JSON.stringify(data)}\n\n`);
    },
    done(): void {
      end('data: [DONE]\n\n');
    },
    fail(errorBody: object): void {
      end(`data: ${JSON.stringify(errorBody)}\n\n`);
    },
    follow<T>(source: Observable<T>, handlers: { next: (value: T) => void; error: (error: unknown) => void }): void {
      // Waited for by a replica shutting down (and failed past its grace period).
      const subscription = trackedUntilShutdown(res, source).subscribe({
        next: handlers.next,
        error: handlers.error,
        complete: () => end('data: [DONE]\n\n'),
      });
      res.on('close', () => {
        if (!res.writableFinished) subscription.unsubscribe();
      });
    },
  };
}
