import { Inject, Injectable } from '@nestjs/common';
import { METRICS, OUTCOME_CLIENT_CLOSED, TURN_OUTCOME_COMPLETE, type TurnEvent } from '@parley/contracts';
import { ServiceMetrics } from '@parley/service-kit';
import { defer, finalize, tap, type MonoTypeOperatorFunction } from 'rxjs';

/**
 * What a user feels of a streamed turn, observed on the events on their way to the client: time
 * to the first text and to the first spoken sentence, and how the turn ended (`complete`, an
 * error code, or `client_closed` when the client left first).
 */
@Injectable()
export class TurnMetrics {
  private readonly turns;
  private readonly timeToFirstChunk;
  private readonly timeToFirstAudio;

  constructor(@Inject(ServiceMetrics) private readonly metrics: ServiceMetrics) {
    this.turns = metrics.counter(METRICS.turns);
    this.timeToFirstChunk = metrics.histogram(METRICS.turnTimeToFirstChunk);
    this.timeToFirstAudio = metrics.histogram(METRICS.turnTimeToFirstAudio);
  }

  observe(route: string): MonoTypeOperatorFunction<TurnEvent> {
    return (events) =>
      defer(() => {
        const labels = { service: this.metrics.service, route };
        const startedMs = performance.now();
        const seen = new Set<string>();
        let outcome: string = OUTCOME_CLIENT_CLOSED;
        const firstOf = (event: TurnEvent['event'], histogram: typeof this.timeToFirstChunk) => {
          if (seen.has(event)) return;
          seen.add(event);
          histogram.observe(labels, (performance.now() - startedMs) / 1000);
        };
        return events.pipe(
          tap({
            next: (event) => {
              if (event.event === 'response_chunk') firstOf(event.event, this.timeToFirstChunk);
              else if (event.event === 'audio') firstOf(event.event, this.timeToFirstAudio);
              else if (event.event === 'complete') outcome = TURN_OUTCOME_COMPLETE;
              else if (event.event === 'error') outcome = event.data.code;
            },
            // The SSE writer turns both into an INTERNAL error event.
            error: () => (outcome = 'INTERNAL'),
            complete: () => {
              if (outcome === OUTCOME_CLIENT_CLOSED) outcome = 'INTERNAL';
            },
          }),
          finalize(() => this.turns.inc({ ...labels, outcome })),
        );
      });
  }
}
