import { ParleyError, TERMINAL_TURN_EVENTS, type TurnEvent } from '@parley/contracts';
import { catchError, concat, defer, EMPTY, of, takeWhile, type Observable } from 'rxjs';

export function errorEvent(error: unknown): TurnEvent {
  const failure = ParleyError.from(error);
  return { event: 'error', data: { error: failure.message, code: failure.code } };
}

const isTerminal = (event: TurnEvent) => TERMINAL_TURN_EVENTS.includes(event.event);

/**
 * A turn's events as every transport must deliver them: ending with exactly one terminal
 * event (`complete` or `error`). Anything after the first terminal event is dropped, a stream
 * that fails becomes an `error` event, and one that ends without a terminal event gets one.
 */
export function endingOnce(events: Observable<TurnEvent>): Observable<TurnEvent> {
  return defer(() => {
    let ended = false;
    return concat(
      events.pipe(
        takeWhile((event) => !(ended = isTerminal(event)), true),
        catchError((error: unknown) => {
          ended = true;
          return of(errorEvent(new ParleyError('INTERNAL', `internal error: ${String(error)}`)));
        }),
      ),
      defer(() => (ended ? EMPTY : of(errorEvent(new ParleyError('INTERNAL', 'the stream ended without a result'))))),
    );
  });
}
