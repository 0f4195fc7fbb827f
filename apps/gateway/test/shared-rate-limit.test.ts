import { metricValue, startNatsServer, type TestNatsServer } from '@parley/service-kit/testing';
import { postEmptyMessage, startEdgeGateway, statusesOf, type TestGateway } from './edge-support.js';

/** Issue 11, item 5: one budget per key (per address without keys), held in NATS, whatever replica answers. */
describe('rate limits shared by every gateway replica', () => {
  let nats: TestNatsServer;

  beforeAll(async () => {
    nats = await startNatsServer();
  });

  afterAll(async () => {
    await nats?.stop();
  });

  it('spends one budget across two replicas and answers 429 with Retry-After and RateLimit headers', async () => {
    const bucket = 'limits_two_replicas';
    const replicas: TestGateway[] = [
      await startEdgeGateway(nats.url, { rateLimitBucket: bucket }, { rateLimitPerMinute: 4 }),
      await startEdgeGateway(nats.url, { rateLimitBucket: bucket }, { rateLimitPerMinute: 4 }),
    ];
    try {
      const remaining: (string | null)[] = [];
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await postEmptyMessage(replicas[i % 2]!.url);
        await res.arrayBuffer();
        statuses.push(res.status);
        remaining.push(res.headers.get('ratelimit-remaining'));
        expect(res.headers.get('ratelimit-limit')).toBe('4');
        expect(res.headers.get('ratelimit-policy')).toBe('4;w=60');
      }
      expect(statuses).toEqual([400, 400, 400, 400]);
      expect(remaining).toEqual(['3', '2', '1', '0']);
      for (const replica of replicas) {
        const refused = await postEmptyMessage(replica.url);
        expect(refused.status).toBe(429);
        // One request's worth refills in 15 s at 4 per minute.
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(14);
        expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(15);
        expect(refused.headers.get('ratelimit-remaining')).toBe('0');
        expect(Number(refused.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
        expect(await refused.json()).toEqual({
          statusCode: 429,
          error: 'Too Many Requests',
          message: expect.stringMatching(/at most 4 per minute; try again in \d+ s/),
          code: 'TOO_MANY_REQUESTS',
        });
      }
      // Reads are not counted.
      expect((await fetch(`${replicas[0]!.url}/api/health/languages`)).status).toBe(200);
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
    }
  });

  it('gives each API key its own budget, even from one address', async () => {
    const bucket = 'limits_per_key';
    const replicas = [
      await startEdgeGateway(nats.url, { rateLimitBucket: bucket, apiKeys: ['key-of-alice', 'key-of-bob'] }, { rateLimitPerMinute: 2 }),
      await startEdgeGateway(nats.url, { rateLimitBucket: bucket, apiKeys: ['key-of-alice', 'key-of-bob'] }, { rateLimitPerMinute: 2 }),
    ];
    try {
      let turn = 0;
      const as = (key: string) => () => postEmptyMessage(replicas[turn++ % 2]!.url, { Authorization: `Bearer ${key}` });
      expect(await statusesOf(3, as('key-of-alice'))).toEqual([400, 400, 429]);
      expect(await statusesOf(3, as('key-of-bob'))).toEqual([400, 400, 429]);
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
    }
  });

  it('lets requests through, and counts them, when the store is unreachable (fail open)', async () => {
    const ownNats = await startNatsServer();
    const gateway = await startEdgeGateway(ownNats.url, { rateLimitStoreTimeoutMs: 200 }, { rateLimitPerMinute: 1 });
    try {
      expect(await statusesOf(2, () => postEmptyMessage(gateway.url))).toEqual([400, 429]);
      await ownNats.stop();
      const started = Date.now();
      expect(await statusesOf(3, () => postEmptyMessage(gateway.url))).toEqual([400, 400, 400]);
      // Each waited at most about the store timeout, not the client's own (seconds).
      expect(Date.now() - started).toBeLessThan(3 * 200 + 1000);
      const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
      expect(metricValue(metrics, 'parley_rate_limit_store_failures_total')).toBe(3);
    } finally {
      await gateway.close();
    }
  });
});
