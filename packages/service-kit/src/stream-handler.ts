import { parsePayload, type ServiceName } from '@parley/contracts';
import { defer, type Observable } from 'rxjs';
import type { z } from 'zod';
import { streamRpc } from './rpc.js';
import { serveCancellable, type CancelListener } from './streaming.js';

export interface StreamHandlerOptions<S extends z.ZodType<{ request_id: string }>> {
  service: ServiceName;
  schema: S;
  /** What the payload is, for error messages ("chat request"). */
  what: string;
  maxDurationMs: number;
}

/**
 * The body of every streaming NATS handler: validate the payload at the edge, run the use case's
 * stream until it ends, the caller cancels or the deadline passes, and send errors back with
 * their code. A message controller is then one call.
 */
export function handleStreamRequest<S extends z.ZodType<{ request_id: string }>, T>(
  nats: CancelListener,
  payload: unknown,
  options: StreamHandlerOptions<S>,
  work: (request: z.output<S>) => Observable<T>,
): Observable<T> {
  return streamRpc(
    defer(() => {
      const request = parsePayload(options.schema, payload, options.what);
      return serveCancellable(nats, work(request), {
        service: options.service,
        requestId: request.request_id,
        maxDurationMs: options.maxDurationMs,
      });
    }),
  );
}
