import {
  defer,
  filter,
  identity,
  finalize,
  map,
  merge,
  Observable,
  Subject,
  takeUntil,
  tap,
  throwError,
  timeout,
  timer,
  catchError,
} from 'rxjs';
import { cancelSubject, isStreamHeartbeat, ParleyError, type ServiceName } from '@parley/contracts';
import { asBrokerError, type BrokerStatus } from './broker.js';

/**
 * The one streaming-request primitive, in two halves:
 *  - `streamRequest` (caller): send a request, read many replies, fail on a silent service, and
 *    publish a per-request cancel when the caller stops listening before the end.
 *  - `serveCancellable` (service): run the work until it ends, the caller cancels, or a deadline.
 *
 * Why not plain `ClientProxy.send()`: it has no timeout (a replica killed mid-stream leaves the
 * caller waiting forever), and unsubscribing does not stop the service's Observable.
 */

/** The part of a NestJS ClientProxy this needs. */
export interface MessageClient {
  send<R = unknown, I = unknown>(pattern: string, data: I): Observable<R>;
  emit<R = unknown, I = unknown>(pattern: string, data: I): Observable<R>;
}

export interface StreamRequestOptions<T> {
  service: ServiceName;
  subject: string;
  /** Validates and types every reply (a reply that does not match is a broken service). */
  parse: (reply: unknown) => T;
  /** How long the first reply may take (model busy, queueing, prompt evaluation). */
  firstReplyTimeoutMs: number;
  /** How long the service may stay silent between two replies. */
  idleTimeoutMs: number;
  /**
   * The broker as the caller's process sees it: while it is down the request fails at once with
   * BROKER_UNAVAILABLE, and a stream under way when it goes down ends with that error.
   */
  broker?: BrokerStatus;
  /**
   * How long the service may send nothing at all, heartbeats included (see STREAM_HEARTBEAT),
   * before its replica is taken for dead (TIMEOUT). Unset: only the reply timeouts apply.
   */
  livenessTimeoutMs?: number;
}

/**
 * A reply parser for `streamRequest`: a reply that does not match the contract is the service's
 * fault (ENGINE_FAILED), not the caller's.
 */
export function replyParser<T>(
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } },
  service: ServiceName,
) {
  return (reply: unknown): T => {
    const parsed = schema.safeParse(reply);
    if (!parsed.success)
      throw new ParleyError('ENGINE_FAILED', `the ${service} service sent a reply that does not match the contract`);
    return parsed.data;
  };
}

const NO_RESPONDERS = /empty response|no responders|503/i;

/** Translates what the transport throws into a ParleyError that names the service. */
export function toServiceError(error: unknown, service: ServiceName, broker?: BrokerStatus): ParleyError {
  if (error instanceof ParleyError) return error;
  if (ParleyError.isErrorBody(error)) return ParleyError.from(error);
  const brokerError = asBrokerError(error, broker);
  if (brokerError) return brokerError;
  const message = error instanceof Error ? error.message : JSON.stringify(error);
  if (error instanceof Error && (error.name === 'EmptyResponseException' || NO_RESPONDERS.test(message))) {
    return new ParleyError('SERVICE_UNAVAILABLE', `The ${service} service is not running (no replica answered).`);
  }
  return new ParleyError('ENGINE_FAILED', `The ${service} service failed: ${message}`);
}

/** `source`, failing with the first error `errors$` emits (a lost broker) while it runs. */
function failOn<T>(source: Observable<T>, errors$: Observable<unknown> | undefined): Observable<T> {
  if (!errors$) return source;
  return new Observable<T>((subscriber) => {
    const failure = errors$.subscribe((error) => subscriber.error(error));
    subscriber.add(failure);
    subscriber.add(source.subscribe(subscriber));
  });
}

function deadReplicaError(options: StreamRequestOptions<unknown>): ParleyError {
  return new ParleyError(
    'TIMEOUT',
    `The ${options.service} service stopped answering: no heartbeat for ${options.livenessTimeoutMs} ms (its replica may have died).`,
  );
}

/** TIMEOUT naming the phase the service went silent in, and the limit of that phase. */
function silentServiceError(options: StreamRequestOptions<unknown>, repliesSeen: number): ParleyError {
  const [ms, phase] =
    repliesSeen === 0
      ? [options.firstReplyTimeoutMs, 'waiting for the first reply']
      : [options.idleTimeoutMs, `mid-stream, after ${repliesSeen} ${repliesSeen === 1 ? 'reply' : 'replies'}`];
  return new ParleyError('TIMEOUT', `The ${options.service} service sent nothing for ${ms} ms (${phase}).`);
}

export function streamRequest<T>(
  client: MessageClient,
  payload: { request_id: string },
  options: StreamRequestOptions<T>,
): Observable<T> {
  return defer(() => {
    // The service needs a cancel only when the caller leaves while the service is still working:
    // not after the end of the stream, nor after the service itself reported an error.
    let serviceFinished = false;
    options.broker?.assertUp();
    return failOn(client.send<unknown>(options.subject, payload), options.broker?.lost$).pipe(
      options.livenessTimeoutMs === undefined
        ? identity
        : timeout({ each: options.livenessTimeoutMs, with: () => throwError(() => deadReplicaError(options)) }),
      filter((reply) => !isStreamHeartbeat(reply)),
      // One timer that knows its phase: `first` runs until the first reply, then `each` between
      // replies (two chained timeouts would also hold the first reply to the idle limit).
      timeout({
        first: options.firstReplyTimeoutMs,
        each: options.idleTimeoutMs,
        with: ({ seen }) => throwError(() => silentServiceError(options, seen)),
      }),
      tap({
        complete: () => (serviceFinished = true),
        // A service that went silent, or that the broker cut off, may still be working: cancel it.
        error: (error: unknown) =>
          (serviceFinished = !(
            error instanceof ParleyError &&
            (error.code === 'TIMEOUT' || error.code === 'BROKER_UNAVAILABLE')
          )),
      }),
      map((reply) => options.parse(reply)),
      catchError((error: unknown) => throwError(() => toServiceError(error, options.service, options.broker))),
      finalize(() => {
        if (serviceFinished) return;
        client
          .emit(cancelSubject(options.service, payload.request_id), { request_id: payload.request_id })
          .subscribe({ error: () => undefined });
      }),
    );
  });
}

/** The part of a NATS connection the service half needs. */
export interface CancelListener {
  subscribe(
    subject: string,
    opts: { max?: number; callback: (err: unknown, msg: unknown) => void },
  ): {
    unsubscribe(): void;
  };
}

export interface ServeCancellableOptions {
  service: ServiceName;
  requestId: string;
  /** A hard ceiling on one request's work, in case a cancel is lost (the caller's process died). */
  maxDurationMs: number;
  /** Called once if the work was stopped by a cancel or the deadline (for logs and metrics). */
  onStopped?: (reason: 'cancelled' | 'deadline') => void;
}

/**
 * Runs `work` until it completes, the caller publishes the request's cancel subject, or the
 * deadline passes. Stopping unsubscribes from `work`, whose teardown must abort the engine.
 * The cancel subscription is plain (no queue group) so it reaches this very replica.
 */
export function serveCancellable<T>(
  nats: CancelListener,
  work: Observable<T>,
  options: ServeCancellableOptions,
): Observable<T> {
  return defer(() => {
    const stop$ = new Subject<'cancelled' | 'deadline'>();
    const subscription = nats.subscribe(cancelSubject(options.service, options.requestId), {
      max: 1,
      callback: () => stop$.next('cancelled'),
    });
    let stoppedBy: 'cancelled' | 'deadline' | undefined;
    const deadline$ = timer(options.maxDurationMs).pipe(map(() => 'deadline' as const));
    return work.pipe(
      takeUntil(
        merge(stop$, deadline$).pipe(
          tap((reason) => {
            stoppedBy = reason;
          }),
        ),
      ),
      finalize(() => {
        subscription.unsubscribe();
        if (stoppedBy) options.onStopped?.(stoppedBy);
      }),
    );
  });
}
