import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ErrorCode } from '@parley/contracts';
import { NATS_CONNECTION, ServiceMetrics } from '@parley/service-kit';
import type { GatewayConfig } from '../config.js';
import { requestUrl } from '../http/error-body.js';
import { GATEWAY_CONFIG } from '../tokens.js';
import { ApiKeys, presentedApiKey, redactUrl } from './api-keys.js';
import { ClientAddresses } from './client-address.js';
import { ConcurrentStreams } from './concurrent-streams.js';
import { OriginPolicy } from './origin-policy.js';
import { SharedRateLimiter, type RateDecision } from './shared-rate-limiter.js';

/** Who is calling: the key's id when keys are configured, and the client's address. */
export interface EdgeClient {
  /** What budgets are counted by: `key:<id>` with keys, else `address:<ip>`. */
  id: string;
  /** The start of the sha256 of the caller's key (never the key); undefined without keys. */
  keyId?: string;
  address: string;
}

/** A request refused at the edge, before any work: the status, code and message to answer with. */
export interface EdgeRefusal {
  status: number;
  code: ErrorCode;
  message: string;
  headers?: Record<string, string>;
}

export function isRefusal(value: unknown): value is EdgeRefusal {
  return typeof value === 'object' && value !== null && 'status' in value && 'code' in value;
}

/**
 * The gateway's public edge, one place for every check a request meets before it reaches a
 * controller: browser origin, API key, the shared rate limit and the per-client stream cap. The
 * HTTP middlewares call it, and so can a WebSocket upgrade (`admitUpgrade`): same rules, same answers.
 */
@Injectable()
export class EdgeAccess {
  private readonly logger = new Logger('edge');
  private readonly clients = new WeakMap<IncomingMessage, EdgeClient>();
  readonly addresses: ClientAddresses;
  readonly origins: OriginPolicy;
  readonly keys: ApiKeys;
  readonly limiter: SharedRateLimiter;
  readonly streams: ConcurrentStreams;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(NATS_CONNECTION) nats: NatsConnection,
    @Inject(ServiceMetrics) metrics: ServiceMetrics,
  ) {
    const edge = config.edge;
    this.addresses = new ClientAddresses(edge.trustedProxies);
    this.origins = new OriginPolicy(edge.corsOrigins);
    this.keys = new ApiKeys(edge.apiKeys);
    this.limiter = new SharedRateLimiter(
      nats,
      {
        perMinute: config.rateLimitPerMinute,
        bucket: edge.rateLimitBucket,
        storeTimeoutMs: edge.rateLimitStoreTimeoutMs,
      },
      metrics,
    );
    this.streams = new ConcurrentStreams(edge.maxStreamsPerClient);
  }

  /** 403 for a browser page on an origin that is not allowed. */
  checkOrigin(req: IncomingMessage): EdgeRefusal | undefined {
    const origin = req.headers.origin;
    if (this.origins.allows(origin, this.addresses.hostsOf(req))) return undefined;
    return {
      status: 403,
      code: 'FORBIDDEN',
      message: `requests from the web origin ${origin} are not allowed; add it to CORS_ORIGINS to allow it`,
    };
  }

  /** The caller (remembered on the request), or 401 when keys are configured and none of them was presented. */
  authenticate(req: IncomingMessage): EdgeClient | EdgeRefusal {
    const address = this.addresses.addressOf(req);
    let client: EdgeClient = { id: `address:${address}`, address };
    if (this.keys.required) {
      const presented = presentedApiKey(req);
      const keyId = presented === undefined ? undefined : this.keys.identify(presented);
      if (!keyId) {
        const why = presented === undefined ? 'no API key was given' : 'the API key is not valid';
        this.logger.warn(`refused ${req.method} ${redactUrl(requestUrl(req))} from ${address}: ${why}`);
        return {
          status: 401,
          code: 'UNAUTHORIZED',
          message: `${why}: send it as the header 'Authorization: Bearer <key>'`,
          headers: { 'WWW-Authenticate': 'Bearer realm="parley"' },
        };
      }
      client = { id: `key:${keyId}`, keyId, address };
    }
    this.clients.set(req, client);
    return client;
  }

  /** The caller of an authenticated request (for scoping data to its key), else undefined. */
  clientOf(req: IncomingMessage): EdgeClient | undefined {
    return this.clients.get(req);
  }

  /** Spends one request of the client's shared budget: the RateLimit headers, and 429 past the limit. */
  async rateLimit(client: EdgeClient): Promise<{ headers: Record<string, string>; refusal?: EdgeRefusal }> {
    if (!this.limiter.enabled) return { headers: {} };
    const decision = await this.limiter.consume(client.id);
    const headers = rateLimitHeaders(decision);
    if (decision.allowed) return { headers };
    return {
      headers,
      refusal: {
        status: 429,
        code: 'TOO_MANY_REQUESTS',
        message: `too many requests: at most ${decision.limit} per minute; try again in ${decision.retryAfterSeconds} s`,
        headers: { ...headers, 'Retry-After': String(decision.retryAfterSeconds) },
      },
    };
  }

  /** Opens one stream for the client: the function that closes it, or 429 at the cap. */
  openStream(client: EdgeClient): (() => void) | EdgeRefusal {
    const close = this.streams.tryOpen(client.id);
    if (close) return close;
    return {
      status: 429,
      code: 'TOO_MANY_REQUESTS',
      message: `too many streams at once: this client already has ${this.streams.maxPerClient} open; wait for one to end (or close it) before starting another`,
      headers: { 'Retry-After': '1' },
    };
  }

  /**
   * Every edge check for a WebSocket upgrade, in the HTTP order: origin (403), key (401), rate
   * limit (429), stream cap (429). On success, call `close` when the socket closes.
   */
  async admitUpgrade(req: IncomingMessage): Promise<{ client: EdgeClient; close: () => void } | EdgeRefusal> {
    const forbidden = this.checkOrigin(req);
    if (forbidden) return forbidden;
    const client = this.authenticate(req);
    if (isRefusal(client)) return client;
    const { refusal } = await this.rateLimit(client);
    if (refusal) return refusal;
    const close = this.openStream(client);
    if (isRefusal(close)) return close;
    return { client, close };
  }
}

/** The IETF draft's RateLimit fields (draft-ietf-httpapi-ratelimit-headers, separate-fields form). */
function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  return {
    'RateLimit-Limit': String(decision.limit),
    'RateLimit-Remaining': String(decision.remaining),
    'RateLimit-Reset': String(decision.resetSeconds),
    'RateLimit-Policy': `${decision.limit};w=60`,
  };
}
