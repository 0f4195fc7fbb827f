import { waitUntil } from '@parley/service-kit/testing';
import { recordReliabilityCase } from '../../../tooling/reliability.js';
import type { TestGateway } from './support.js';
import { startLlmSystem, type LlmSystem } from './system-support.js';

const TURN = { message: 'Hola', language: 'es', difficulty: 'intermediate', scenario: 'restaurant' };

/** A text-stream that has started answering, left open (the caller aborts it). */
async function openStream(url: string, key: string) {
  const abort = new AbortController();
  const res = await fetch(`${url}/api/conversation/text-stream`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
    body: JSON.stringify(TURN),
    signal: abort.signal,
  });
  if (res.status !== 200) return { res, abort };
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('event: response_chunk')) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended before answering: ${text}`);
    text += new TextDecoder().decode(value);
  }
  return { res, abort };
}

/** Issue 12, item 3: one client cannot hold more than its share of streams. */
describe('the per-client cap on concurrent streams', () => {
  let system: LlmSystem;
  let gateway: TestGateway;

  beforeAll(async () => {
    system = await startLlmSystem({ endless: true, edge: { apiKeys: ['key-a', 'key-b'], maxStreamsPerClient: 1 }, gateway: { llmMaxTokens: 2048 } });
    gateway = system.gateway;
  }, 60_000);

  afterAll(() => system?.stop());

  it('refuses a second stream of the same client with 429 while the first is open, but not another client', async () => {
    const first = await openStream(gateway.url, 'key-a');
    expect(first.res.status).toBe(200);
    try {
      const sentAt = Date.now();
      const second = await openStream(gateway.url, 'key-a');
      const refusedMs = Date.now() - sentAt;
      expect(second.res.status).toBe(429);
      expect(second.res.headers.get('retry-after')).toBe('1');
      expect(await second.res.json()).toEqual({
        statusCode: 429,
        error: 'Too Many Requests',
        message: 'too many streams at once: this client already has 1 open; wait for one to end (or close it) before starting another',
        code: 'TOO_MANY_REQUESTS',
      });
      const other = await openStream(gateway.url, 'key-b');
      expect(other.res.status).toBe(200);
      other.abort.abort();
      recordReliabilityCase({
        id: 'fault.edge.stream-cap',
        kind: 'fault',
        target: 'POST /api/conversation/text-stream',
        input: 'a client opens a second stream while its first is open (cap: 1 per client)',
        outcome: '429 TOO_MANY_REQUESTS with Retry-After 1 saying how many it has open; another client still gets 200',
        ms: refusedMs,
      });
    } finally {
      first.abort.abort();
    }
  });

  it('frees the slot when the client closes its stream', async () => {
    const openWhenFree = async () => {
      const attempt = await openStream(gateway.url, 'key-a');
      if (attempt.res.status === 200) return attempt;
      await attempt.res.arrayBuffer();
      return undefined;
    };
    const first = (await waitUntil(openWhenFree, 'a free slot', 5_000))!;
    const refused = await openStream(gateway.url, 'key-a');
    expect(refused.res.status).toBe(429);
    first.abort.abort();
    const closedAt = Date.now();
    const next = (await waitUntil(openWhenFree, 'the slot to be freed', 5_000))!;
    const freedMs = Date.now() - closedAt;
    next.abort.abort();
    recordReliabilityCase({
      id: 'fault.edge.stream-cap-freed',
      kind: 'fault',
      target: 'POST /api/conversation/text-stream',
      input: 'a client at its stream cap closes its stream',
      outcome: 'its slot is freed: its next stream gets 200 within 5 s',
      ms: freedMs,
    });
  });
});
