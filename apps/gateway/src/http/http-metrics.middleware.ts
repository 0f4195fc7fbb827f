import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ServiceMetrics } from '@parley/service-kit';

const KNOWN_ROUTE =
  /^\/api\/(health(\/(models|ready|languages|scenarios))?|conversation\/(text|text-stream|transcribe|synthesize|speak|speak-stream|voices|session\/[^/]+))$/;

/** The route as a metric label: known routes only (session ids folded), so labels stay few. */
function routeLabel(path: string): string {
  if (!KNOWN_ROUTE.test(path)) return 'other';
  return path.replace(/\/session\/[^/]+$/, '/session/:id');
}

/** Scrapes and probes are not traffic. */
const UNTIMED_PATHS = new Set(['/metrics', '/healthz', '/readyz']);

/** Times every HTTP request by route and status (streams are timed until they end). */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(@Inject(ServiceMetrics) private readonly metrics: ServiceMetrics) {}

  use(req: Request, res: Response, next: NextFunction): void {
    if (UNTIMED_PATHS.has(req.path)) return next();
    const route = `${req.method} ${routeLabel(req.originalUrl.split('?')[0] ?? '')}`;
    const end = this.metrics.startRequest(route);
    res.on('close', () => end(res.writableFinished ? String(res.statusCode) : 'client_closed'));
    next();
  }
}
