import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ServiceMetrics } from '@parley/service-kit';
import { API_ROUTES } from '../openapi/api-routes.js';

/** The documented routes (the OpenAPI list) as matchers: `/session/{id}` matches any one id. */
const KNOWN_ROUTES = [...new Set(API_ROUTES.map((route) => route.path))].map((path) => ({
  label: path.replace(/\{(\w+)\}/g, ':$1'),
  pattern: new RegExp(`^${path.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`),
}));

/** The route as a metric label: documented routes only (ids folded), so labels stay few. */
function routeLabel(path: string): string {
  return KNOWN_ROUTES.find((route) => route.pattern.test(path))?.label ?? 'other';
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
