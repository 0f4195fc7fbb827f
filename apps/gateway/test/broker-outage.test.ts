import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { freePort, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { getJson, postJson, postSse, startLlmService, startTestGateway, type TestGateway } from './support.js';

const TURN = { message: 'Hola', language: 'es' };

/**
 * The message broker goes away (killed, like a crashed pod) and comes back with the same
 * JetStream store. An outage is nobody's mistake: a 503 that says so and when to retry, and the
 * conversation goes on once the broker is back.
 */
describe('a NATS outage', () => {
  let nats: TestNatsServer;
  let dir: string;
  let llm: SpawnedService;
  let gateway: TestGateway;

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-outage-'));
    // An endless model cut at max_tokens: a turn streams long enough to lose the broker mid-way.
    const gguf = await writeTinyGguf(join(dir, 'model.gguf'), { endless: true });
    llm = startLlmService(nats.url, gguf.path, await freePort());
    gateway = await startTestGateway(nats.url, { llmMaxTokens: 300 });
    await waitUntil(async () => (await getJson(`${gateway.url}/api/health/models`)).body.models?.llm === 'loaded', 'the llm model', 60_000);
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await llm?.stop();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 BROKER_UNAVAILABLE with Retry-After while NATS is down, ends streams with that error, and works again once it is back', async () => {
    const before = await postJson(`${gateway.url}/api/conversation/text`, { ...TURN, session_id: 'outage' });
    expect(before.status).toBe(200);

    await nats.kill();
    const res = await fetch(`${gateway.url}/api/conversation/text`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...TURN, session_id: 'outage' }),
    });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await res.json()).toMatchObject({ statusCode: 503, code: 'BROKER_UNAVAILABLE', message: expect.stringMatching(/message broker/i) });

    const stream = await postSse(`${gateway.url}/api/conversation/text-stream`, TURN);
    expect(stream.events.at(-1)).toEqual({ event: 'error', data: { code: 'BROKER_UNAVAILABLE', error: expect.stringMatching(/message broker/i), request_id: expect.any(String) } });
    expect(stream.events.filter((e) => e.event === 'error' || e.event === 'complete')).toHaveLength(1);

    await nats.start();
    await waitUntil(async () => (await postJson(`${gateway.url}/api/conversation/text`, TURN)).status === 200, 'a turn after NATS is back', 15_000);
    const after = await postJson(`${gateway.url}/api/conversation/text`, { ...TURN, session_id: 'outage' });
    expect(after.status).toBe(200);
    // The session kept its turns across the outage (same JetStream store), plus the new one.
    expect((await getJson(`${gateway.url}/api/conversation/session/outage`)).body.count).toBe(4);
  });

  it('ends a stream under way with one BROKER_UNAVAILABLE error when NATS goes down mid-answer', async () => {
    let killed: Promise<void> | undefined;
    const started = Date.now();
    const stream = await postSse(`${gateway.url}/api/conversation/text-stream`, TURN, {
      disconnectWhen: (event) => {
        if (event.event === 'response_chunk') killed ??= nats.kill();
        return false;
      },
    });
    await killed;
    const elapsedMs = Date.now() - started;
    expect(stream.events.filter((e) => e.event === 'response_chunk').length).toBeGreaterThan(0);
    expect(stream.events.at(-1)).toEqual({ event: 'error', data: { code: 'BROKER_UNAVAILABLE', error: expect.stringMatching(/message broker/i), request_id: expect.any(String) } });
    expect(stream.events.filter((e) => e.event === 'error' || e.event === 'complete')).toHaveLength(1);
    console.log(`stream ended ${elapsedMs} ms after it started, NATS killed at its first chunk`);
    await nats.start();
    await waitUntil(async () => (await postJson(`${gateway.url}/api/conversation/text`, TURN)).status === 200, 'a turn after NATS is back', 15_000);
  });
});
