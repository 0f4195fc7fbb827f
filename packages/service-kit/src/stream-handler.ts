import {
  parsePayload,
  STREAM_HEARTBEAT,
  STREAM_HEARTBEAT_INTERVAL_MS,
  type ServiceName,
  type StreamHeartbeat,
} from '@parley/contracts';
import { defer, finalize, map, merge, Subject, takeUntil, timer, type Observable } from 'rxjs';
import type { z } from 'zod';
import { streamRpc } from './rpc.js';
import { serveCancellable, type CancelListener } from './streaming.js';

export interface StreamHandlerOptions<S extends z.ZodType<{ request_id: string }>> {
  service: ServiceName;
  schema: S;
  /** What the payload is, for error messages ("chat request"). */
  what: string;
  maxDurationMs: number;
  /** Interval of the liveness heartbeats on the reply stream (STREAM_HEARTBEAT_INTERVAL_MS). */
  heartbeatMs?: number;
}

/**
 * The body of every streaming NATS handler: validate the payload at the edge, run the use case's
 * stream until it ends, the caller cancels or the deadline passes, send heartbeats while it
 * runs (so the caller notices at once if this replica dies), and send errors back with their
 * code. A message controller is then one call.
 */
export function handleStreamRequest<S extends z.ZodType<{ request_id: string }>, T>(
  nats: CancelListener,
  payload: unknown,
  options: StreamHandlerOptions<S>,
  work: (request: z.output<S>) => Observable<T>,
): Observable<T | StreamHeartbeat> {
  return streamRpc(
    defer(() => {
      const request = parsePayload(options.schema, payload, options.what);
      const served = serveCancellable(nats, work(request), {
        service: options.service,
        requestId: request.request_id,
        maxDurationMs: options.maxDurationMs,
      });
      return withHeartbeats(served, options.heartbeatMs ?? STREAM_HEARTBEAT_INTERVAL_MS);
    }),
  );
}

/** `work`, with a heartbeat at once and every `intervalMs` until it ends. */
export function withHeartbeats<T>(work: Observable<T>, intervalMs: number): Observable<T | StreamHeartbeat> {
  return defer(() => {
    const ended = new Subject<void>();
    return merge(
      work.pipe(finalize(() => ended.next())),
      timer(0, intervalMs).pipe(
        map(() => STREAM_HEARTBEAT),
        takeUntil(ended),
      ),
    );
  });
}
