import { Injectable } from '@nestjs/common';
import { InFlightRequests } from '@parley/service-kit';
import type { Response } from 'express';
import type { Observable } from 'rxjs';
import type { EdgeRefusal } from '../edge/edge-access.js';

/** Where DrainMiddleware leaves this replica's tracker for the response helpers (writeSse, ...). */
const TRACKER = Symbol('gateway-drain');

/** Seconds a refused client should wait: another replica takes it at once, this one is going away. */
export const DRAINING_RETRY_AFTER_SECONDS = 1;

/**
 * Whether this gateway replica is shutting down, and the turns it is still serving. Once draining
 * it refuses new work (readiness 503 first, then every new request 503 with Retry-After, so the
 * load balancer and the client move to another replica) while the work under way may finish.
 */
@Injectable()
export class GatewayDrain {
  /** The streams and blocking turns under way (what a shutdown waits for, and ends when time is up). */
  readonly work = new InFlightRequests();
  private isDraining = false;

  get draining(): boolean {
    return this.isDraining;
  }

  begin(): void {
    this.isDraining = true;
  }

  /** The answer to a request that arrives while draining. */
  refusal(): EdgeRefusal {
    return {
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      message: 'this gateway replica is shutting down: retry, another replica will answer',
      // Connection: close so that a keep-alive client reconnects (through the balancer) elsewhere.
      headers: { 'Retry-After': String(DRAINING_RETRY_AFTER_SECONDS), Connection: 'close' },
    };
  }

  /** Remembers this replica's tracker on a response the routes may answer with a turn. */
  attach(res: Response): void {
    (res.locals as Record<symbol, unknown>)[TRACKER] = this.work;
  }
}

/**
 * `work`, counted as in flight on the replica serving `res` (DrainMiddleware attached it): a
 * shutdown waits for it, and past its grace period ends it with an error (so the client gets one
 * `error` event, and the turn stores nothing). Unchanged on a response outside the guarded routes.
 */
export function trackedUntilShutdown<T>(res: Response, work: Observable<T>): Observable<T> {
  const tracker = (res.locals as Record<symbol, unknown> | undefined)?.[TRACKER];
  return tracker instanceof InFlightRequests ? tracker.track(work) : work;
}
