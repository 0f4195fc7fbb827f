import type { IncomingMessage } from 'node:http';

/** Why an upgrade is refused before it happens (401 missing/wrong key, 403 browser origin not allowed). */
export interface AccessRefusal {
  status: 401 | 403;
  message: string;
}

/**
 * The access rule of the HTTP layer, applied to a WebSocket upgrade (which Express middleware
 * never sees). TODO(edge): the merged edge layer has `EdgeAccess.admitUpgrade` (origin, key,
 * shared rate limit, stream cap, async): make LiveAdmission call it instead of this hook and its
 * own per-client count, so HTTP routes and the live socket use one rule. Until then the default
 * below follows API.md ("Access and documentation") on its own.
 */
export interface UpgradeAccess {
  check(request: IncomingMessage, query: URLSearchParams): AccessRefusal | undefined;
}

export const UPGRADE_ACCESS = Symbol('UPGRADE_ACCESS');

/**
 * API.md's rule: with PARLEY_API_KEYS set, `Authorization: Bearer <key>` or `?api_key=`; a
 * browser `Origin` must be the page's own, localhost/127.0.0.1 on any port, or listed in
 * CORS_ORIGINS; clients that send no Origin are not browsers and pass.
 */
export class DefaultUpgradeAccess implements UpgradeAccess {
  private readonly keys: Set<string>;
  private readonly origins: Set<string>;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.keys = new Set((env.PARLEY_API_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean));
    this.origins = new Set((env.CORS_ORIGINS ?? '').split(',').map((o) => o.trim().replace(/\/$/, '')).filter(Boolean));
  }

  check(request: IncomingMessage, query: URLSearchParams): AccessRefusal | undefined {
    const origin = request.headers.origin;
    if (origin && !this.originAllowed(origin, request.headers.host)) {
      return { status: 403, message: `origin ${origin} is not allowed (set CORS_ORIGINS to allow it)` };
    }
    if (this.keys.size === 0) return undefined;
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const key = bearer ?? query.get('api_key') ?? undefined;
    if (!key) return { status: 401, message: 'an API key is required: Authorization: Bearer <key>, or ?api_key=<key>' };
    if (!this.keys.has(key)) return { status: 401, message: 'the API key is not valid' };
    return undefined;
  }

  private originAllowed(origin: string, host: string | undefined): boolean {
    if (this.origins.has(origin)) return true;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    return url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.host === host;
  }
}
