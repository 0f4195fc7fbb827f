import { ParleyError } from '@parley/contracts';
import { Observable } from 'rxjs';
import type { ConcurrencyGate } from './concurrency-gate.js';
import type { ServiceMetrics } from './metrics.js';
import type { ModelLifecycle } from './model-lifecycle.js';

export interface EngineRequestOptions<T> {
  /** The operation's metric label (`chat`, `transcribe`, `synthesize`). */
  operation: string;
  model: ModelLifecycle;
  /** A ConcurrencyGate, or anything that runs a task in a slot the same way (the stt-service's priority scheduler). */
  gate: Pick<ConcurrencyGate, 'run'>;
  metrics: ServiceMetrics;
  /**
   * The engine work, run once a slot is free: streams values with `emit` as the engine produces
   * them, resolves with the values that end the stream (a `done`), and stops soon after `signal`
   * aborts.
   */
  run: (emit: (value: T) => void, signal: AbortSignal) => Promise<T[]>;
  /** The outcome label of a request whose work ended normally, from its last values (default `ok`). */
  outcome?: (last: T[]) => string;
  /** Work still running after this long is stopped (the signal aborts) and fails with TIMEOUT. */
  timeout?: { ms: number; message: string };
}

/**
 * The model services' request scaffold, after the transport's validation and cancel
 * (`handleStreamRequest`): gate → engine → stream → metrics → cancel, the same in every service.
 *
 * - The model must be loaded (MODEL_NOT_LOADED otherwise), then the request waits for a slot of
 *   the concurrency gate (SERVICE_BUSY beyond its queue).
 * - Unsubscribing (the caller's cancel, the deadline) aborts the engine; the request is counted
 *   as `cancelled` when the engine has really stopped, and the time from cancel to stop is
 *   observed (`parley_cancel_to_stop_seconds`).
 * - Otherwise it ends `ok`, or with the error's code (an engine's own error is ENGINE_FAILED).
 */
export function engineRequest<T>(options: EngineRequestOptions<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    try {
      options.model.requireLoaded();
    } catch (error) {
      subscriber.error(error);
      return;
    }
    const endRequest = options.metrics.startRequest(options.operation);
    const abort = new AbortController();
    let cancelledAtMs: number | undefined;
    let settled = false;
    const engineStopped = (outcome: () => void) => {
      settled = true;
      if (cancelledAtMs === undefined) return outcome();
      options.metrics.observeCancelToStop(options.operation, performance.now() - cancelledAtMs);
      endRequest('cancelled');
    };
    const emit = (value: T) => subscriber.next(value);
    options.gate
      .run(() => withTimeout(options.run(emit, abort.signal), abort, options.timeout), abort.signal)
      .then(
        (last) =>
          engineStopped(() => {
            endRequest(options.outcome?.(last) ?? 'ok');
            for (const value of last) subscriber.next(value);
            subscriber.complete();
          }),
        (error: unknown) =>
          engineStopped(() => {
            const failure = ParleyError.from(error, 'ENGINE_FAILED');
            endRequest(failure.code);
            subscriber.error(failure);
          }),
      );
    return () => {
      // Runs after completion and errors too; only work still under way is cancelled.
      if (settled || abort.signal.aborted) return;
      cancelledAtMs = performance.now();
      abort.abort();
    };
  });
}

function withTimeout<R>(
  work: Promise<R>,
  abort: AbortController,
  limit: EngineRequestOptions<unknown>['timeout'],
): Promise<R> {
  if (!limit) return work;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new ParleyError('TIMEOUT', limit.message));
      abort.abort();
    }, limit.ms);
  });
  return Promise.race([work, timedOut]).finally(() => clearTimeout(timer));
}
