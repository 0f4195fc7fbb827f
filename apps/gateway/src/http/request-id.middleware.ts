import { Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { acceptRequestId, REQUEST_ID_HEADER, runWithRequestId } from '@parley/service-kit';

/** Scrapes and probes: no access log line. */
const QUIET_PATHS = new Set(['/metrics', '/healthz', '/readyz']);

/**
 * Gives every HTTP request its id (the caller's X-Request-Id when sensible, else a new one),
 * answers it in the X-Request-Id header, and handles the request in that id's context: every
 * log line, and every NATS request the turn makes (header `x-request-id`), carries it. One
 * access log line per request when it ends.
 */
@Injectable()
export class RequestIdMiddleware implements NestMiddleware {
  private readonly logger = new Logger('http');

  use(req: Request, res: Response, next: NextFunction): void {
    const requestId = acceptRequestId(req.header(REQUEST_ID_HEADER));
    res.setHeader('X-Request-Id', requestId);
    if (!QUIET_PATHS.has(req.path)) {
      const startedMs = performance.now();
      res.on('close', () =>
        runWithRequestId(requestId, () => {
          const status = res.writableFinished ? String(res.statusCode) : 'client_closed';
          this.logger.log(`${req.method} ${req.path} ${status} in ${Math.round(performance.now() - startedMs)} ms`);
        }),
      );
    }
    runWithRequestId(requestId, next);
  }
}
