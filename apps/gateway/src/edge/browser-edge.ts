import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request } from 'express';
import helmet from 'helmet';
import { EdgeAccess } from './edge-access.js';

/** Headers a browser client may read on a cross-origin answer (the rate-limit state and back-off). */
const EXPOSED_HEADERS = [
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'RateLimit-Policy',
];

/**
 * What every answer carries for browsers: no framework banner; helmet's security headers with a
 * Content-Security-Policy that allows only the page's own files and connections; CORS for the
 * allowed origins only (OriginPolicy). The client's address follows TRUSTED_PROXIES.
 */
export function applyBrowserEdge(app: NestExpressApplication): void {
  const edge = app.get(EdgeAccess);
  app.disable('x-powered-by');
  // req.ip, req.protocol and req.hostname follow the same trusted proxies as the edge's checks.
  app.set('trust proxy', edge.addresses.trust);
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'default-src': ["'self'"],
          'script-src': ["'self'"],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          'media-src': ["'self'", 'blob:', 'data:'],
          // 'self' covers same-origin ws:/wss: (CSP level 3) for the live conversation socket.
          'connect-src': ["'self'"],
          // The page is often reached over plain http on a LAN or localhost: do not force https.
          'upgrade-insecure-requests': null,
        },
      },
      // HSTS belongs to whoever terminates TLS (the gateway speaks plain http).
      strictTransportSecurity: false,
    }),
  );
  app.enableCors((req: Request, callback: (error: Error | null, options: object) => void) => {
    const allowed = edge.origins.allows(req.headers.origin, edge.addresses.hostsOf(req));
    callback(null, { origin: allowed, exposedHeaders: EXPOSED_HEADERS, maxAge: 600 });
  });
}
