import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { Counter } from 'prom-client';
import type { ServiceMetrics } from '@parley/service-kit';

export interface RateLimitOptions {
  perMinute: number;
  bucket: string;
  /** Past this wait for the store, the request passes (fail open). */
  storeTimeoutMs: number;
}

/** What one request learns of its client's budget (for the RateLimit headers). */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Whole requests left right now. */
  remaining: number;
  /** Seconds until the budget is full again. */
  resetSeconds: number;
  /** Seconds until the next request would be allowed (0 when allowed). */
  retryAfterSeconds: number;
}

/** A client's token bucket as stored: tokens left and when they were counted (ms since epoch). */
interface StoredBucket {
  tokens: number;
  at: number;
}

const WINDOW_MS = 60_000;
const MAX_ATTEMPTS = 12;

/**
 * Per-client token buckets (the limit per minute, refilled continuously) kept in a NATS JetStream
 * key-value bucket, so every gateway replica spends from the same budget. Each request reads the
 * client's bucket and writes it back with compare-and-set on the revision it read; a replica that
 * loses the race reads again. An entry idle for a minute has refilled completely, so the KV's
 * one-minute TTL forgets exactly the entries that carry no information.
 *
 * When the store does not answer in time (NATS down or JetStream off), the request passes: a
 * limiter outage must not become an API outage. It is logged (at most every 30 s) and counted in
 * `parley_rate_limit_store_failures_total`.
 */
export class SharedRateLimiter {
  private readonly logger = new Logger('rate-limit');
  private kvPromise?: Promise<KV>;
  private lastWarningMs = 0;
  private readonly storeFailures: Counter<'reason'>;

  constructor(
    private readonly nats: NatsConnection,
    private readonly options: RateLimitOptions,
    metrics: ServiceMetrics,
  ) {
    this.storeFailures = new Counter({
      name: 'parley_rate_limit_store_failures_total',
      help: 'Requests let through because the shared rate-limit store did not answer (fail open)',
      labelNames: ['reason'] as const,
      registers: [metrics.registry],
    });
  }

  get enabled(): boolean {
    return this.options.perMinute > 0;
  }

  /** Spends one request of `client`'s budget (any string: a key id or an address). */
  async consume(client: string): Promise<RateDecision> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), this.options.storeTimeoutMs)),
    );
    try {
      const outcome = await Promise.race([this.spend(client), timedOut]);
      if (outcome === 'timeout')
        return this.failOpen('timeout', `the store did not answer within ${this.options.storeTimeoutMs} ms`);
      if (outcome === 'contention')
        return this.failOpen('contention', `${MAX_ATTEMPTS} concurrent writers on one client's bucket`);
      return outcome;
    } catch (error) {
      return this.failOpen('error', String(error));
    } finally {
      clearTimeout(timer);
    }
  }

  private async spend(client: string): Promise<RateDecision | 'contention'> {
    const kv = await this.kv();
    // Hashed: KV keys allow few characters (an IPv6 address has colons), and the store needs no names.
    const key = createHash('sha256').update(client).digest('hex').slice(0, 32);
    const limit = this.options.perMinute;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry = await kv.get(key);
      const now = Date.now();
      const stored = entry?.operation === 'PUT' ? this.decode(entry.string()) : undefined;
      const elapsed = stored ? Math.max(0, now - stored.at) : 0;
      const tokens = stored ? Math.min(limit, stored.tokens + (elapsed / WINDOW_MS) * limit) : limit;
      const allowed = tokens >= 1;
      const left = allowed ? tokens - 1 : tokens;
      try {
        const value = JSON.stringify({ tokens: left, at: now } satisfies StoredBucket);
        if (entry) await kv.update(key, value, entry.revision);
        else await kv.create(key, value);
      } catch {
        // Another request of this client was counted in between: count again from its result.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * (attempt + 1)));
        continue;
      }
      return {
        allowed,
        limit,
        remaining: Math.floor(left),
        resetSeconds: Math.ceil(((limit - left) * WINDOW_MS) / limit / 1000),
        retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(((1 - left) * WINDOW_MS) / limit / 1000)),
      };
    }
    return 'contention';
  }

  private kv(): Promise<KV> {
    this.kvPromise ??= new Kvm(this.nats)
      .create(this.options.bucket, { history: 1, ttl: WINDOW_MS })
      .catch((error: unknown) => {
        this.kvPromise = undefined;
        throw error;
      });
    return this.kvPromise;
  }

  private decode(json: string): StoredBucket | undefined {
    try {
      const value = JSON.parse(json) as Partial<StoredBucket>;
      return Number.isFinite(value.tokens) && Number.isFinite(value.at) ? (value as StoredBucket) : undefined;
    } catch {
      return undefined;
    }
  }

  private failOpen(reason: 'timeout' | 'contention' | 'error', detail: string): RateDecision {
    this.storeFailures.inc({ reason });
    const now = Date.now();
    if (now - this.lastWarningMs > 30_000) {
      this.lastWarningMs = now;
      this.logger.warn(`rate-limit store unavailable, letting requests through (fail open): ${detail}`);
    }
    const limit = this.options.perMinute;
    return { allowed: true, limit, remaining: limit, resetSeconds: 0, retryAfterSeconds: 0 };
  }
}
