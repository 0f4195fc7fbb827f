import { Injectable, Logger, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { Observable } from 'rxjs';
import { inRequestContext, REQUEST_ID_HEADER, runWithRequestId } from './request-context.js';

/** The code an RpcException carries (a ParleyError body), else the error's name. */
function errorCode(error: unknown): string {
  const body = (error as { getError?: () => unknown })?.getError?.();
  if (typeof body === 'object' && body !== null && 'code' in body) return String(body.code);
  return error instanceof Error ? error.name : 'error';
}

/**
 * Every NATS request a service handles runs in the request context named by its `x-request-id`
 * header, so its log lines carry the turn's id; one line per request says how it ended (health
 * checks only at debug level).
 */
@Injectable()
export class RequestContextInterceptor implements NestInterceptor {
  private readonly logger = new Logger('requests');

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const nats = context.switchToRpc().getContext<NatsContext>();
    const subject = nats.getSubject?.() ?? 'unknown';
    const requestId = nats.getHeaders?.()?.get?.(REQUEST_ID_HEADER) as string | undefined;
    const handled = () => {
      const startedMs = performance.now();
      const ended = (outcome: string) => {
        const line = `${subject} ${outcome} in ${Math.round(performance.now() - startedMs)} ms`;
        if (subject.endsWith('.health')) this.logger.debug(line);
        else this.logger.log(line);
      };
      return new Observable<unknown>((subscriber) => {
        let finished = false;
        const subscription = next
          .handle()
          .pipe(inRequestContext())
          .subscribe({
            next: (value) => subscriber.next(value),
            error: (error: unknown) => {
              finished = true;
              ended(`failed (${errorCode(error)})`);
              subscriber.error(error);
            },
            complete: () => {
              finished = true;
              ended('answered');
              subscriber.complete();
            },
          });
        return () => {
          if (!finished) ended('stopped (cancelled or deadline)');
          subscription.unsubscribe();
        };
      });
    };
    if (!requestId) return handled();
    return new Observable((subscriber) => runWithRequestId(requestId, () => handled().subscribe(subscriber)));
  }
}
