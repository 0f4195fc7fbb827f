import { startNatsServer, type TestNatsServer } from '@parley/service-kit/testing';
import { postEmptyMessage, startEdgeGateway, statusesOf } from './edge-support.js';

/** Issue 7, bug 5: behind a proxy, the rate limiter must tell clients apart, and nobody else may pose as a proxy. */
describe('the client address behind proxies', () => {
  let nats: TestNatsServer;

  beforeAll(async () => {
    nats = await startNatsServer();
  });

  afterAll(async () => {
    await nats?.stop();
  });

  it('gives two clients behind a trusted proxy separate rate-limit budgets', async () => {
    const gateway = await startEdgeGateway(nats.url, { trustedProxies: ['loopback'] }, { rateLimitPerMinute: 2 });
    try {
      const asClient = (address: string) => () => postEmptyMessage(gateway.url, { 'X-Forwarded-For': address });
      expect(await statusesOf(3, asClient('203.0.113.10'))).toEqual([400, 400, 429]);
      // A second learner behind the same proxy still has the whole budget.
      expect(await statusesOf(2, asClient('203.0.113.20'))).toEqual([400, 400]);
    } finally {
      await gateway.close();
    }
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const gateway = await startEdgeGateway(nats.url, { trustedProxies: [] }, { rateLimitPerMinute: 2 });
    try {
      expect(await statusesOf(2, () => postEmptyMessage(gateway.url, { 'X-Forwarded-For': '203.0.113.10' }))).toEqual([400, 400]);
      // Claiming another address does not buy a fresh budget.
      expect(await statusesOf(1, () => postEmptyMessage(gateway.url, { 'X-Forwarded-For': '203.0.113.99' }))).toEqual([429]);
    } finally {
      await gateway.close();
    }
  });

  it('follows a chain of trusted proxies back to the first untrusted address', async () => {
    const gateway = await startEdgeGateway(nats.url, { trustedProxies: ['loopback', '10.0.0.0/8'] }, { rateLimitPerMinute: 1 });
    try {
      // An ingress (10.1.2.3) in front of a sidecar (loopback): the client is the address before them.
      const viaIngress = (client: string) => () => postEmptyMessage(gateway.url, { 'X-Forwarded-For': `${client}, 10.1.2.3` });
      expect(await statusesOf(2, viaIngress('198.51.100.1'))).toEqual([400, 429]);
      expect(await statusesOf(1, viaIngress('198.51.100.2'))).toEqual([400]);
      // An untrusted hop in the middle is where the trust stops: whatever it claims before it is ignored.
      const spoofed = () => postEmptyMessage(gateway.url, { 'X-Forwarded-For': '198.51.100.9, 198.51.100.1, 10.1.2.3' });
      expect(await statusesOf(1, spoofed)).toEqual([429]);
    } finally {
      await gateway.close();
    }
  });
});
