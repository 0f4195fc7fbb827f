import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { GatewayConfig } from '../config.js';
import { GATEWAY_CONFIG } from '../tokens.js';

/**
 * Limits conversation requests per client address (a token bucket refilled continuously):
 * past the limit a request is answered 429 with Retry-After, before any work starts. The
 * buckets live in this replica's memory, so N replicas allow up to N times the limit.
 */
@Injectable()
export class RateLimitMiddleware implements NestMiddleware {
  private readonly buckets = new Map<string, { tokens: number; updatedMs: number }>();

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const perMinute = this.config.rateLimitPerMinute;
    if (perMinute === 0 || req.method !== 'POST') return next();
    const key = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const now = Date.now();
    const bucket = this.buckets.get(key) ?? { tokens: perMinute, updatedMs: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + ((now - bucket.updatedMs) / 60_000) * perMinute);
    bucket.updatedMs = now;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 10_000) this.forgetFullBuckets(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return next();
    }
    const retryAfterSeconds = Math.ceil(((1 - bucket.tokens) * 60) / perMinute);
    res.setHeader('Retry-After', String(retryAfterSeconds));
    res.status(429).json({
      statusCode: 429,
      error: 'Too Many Requests',
      message: `too many requests: at most ${perMinute} per minute; try again in ${retryAfterSeconds} s`,
      code: 'TOO_MANY_REQUESTS',
    });
  }

  /** Buckets that have refilled carry no information: drop them so memory stays bounded. */
  private forgetFullBuckets(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedMs) / 60_000) * this.config.rateLimitPerMinute >= this.config.rateLimitPerMinute) {
        this.buckets.delete(key);
      }
    }
  }
}
