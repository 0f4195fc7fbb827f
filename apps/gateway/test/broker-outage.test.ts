import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { freePort, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { recordReliabilityCase } from '../../../tooling/reliability.js';
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
    let started = Date.now();
    const res = await fetch(`${gateway.url}/api/conversation/text`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...TURN, session_id: 'outage' }),
    });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await res.json()).toMatchObject({ statusCode: 503, code: 'BROKER_UNAVAILABLE', message: expect.stringMatching(/message broker/i) });
    const blockingMs = Date.now() - started;

    started = Date.now();
    const stream = await postSse(`${gateway.url}/api/conversation/text-stream`, TURN);
    const streamMs = Date.now() - started;
    expect(stream.events.at(-1)).toEqual({ event: 'error', data: { code: 'BROKER_UNAVAILABLE', error: expect.stringMatching(/message broker/i), request_id: expect.any(String) } });
    expect(stream.events.filter((e) => e.event === 'error' || e.event === 'complete')).toHaveLength(1);

    await nats.start();
    started = Date.now();
    await waitUntil(async () => (await postJson(`${gateway.url}/api/conversation/text`, TURN)).status === 200, 'a turn after NATS is back', 15_000);
    const recoveredMs = Date.now() - started;
    const after = await postJson(`${gateway.url}/api/conversation/text`, { ...TURN, session_id: 'outage' });
    expect(after.status).toBe(200);
    // The session kept its turns across the outage (same JetStream store), plus the new one.
    expect((await getJson(`${gateway.url}/api/conversation/session/outage`)).body.count).toBe(4);
    const outage = { kind: 'fault' as const, input: 'NATS killed (SIGKILL) while the system is idle' };
    recordReliabilityCase({ ...outage, id: 'fault.nats.down-blocking', target: 'POST /api/conversation/text', outcome: '503 BROKER_UNAVAILABLE with Retry-After, "message broker" in the message', ms: blockingMs });
    recordReliabilityCase({ ...outage, id: 'fault.nats.down-stream', target: 'POST /api/conversation/text-stream', outcome: 'one error event BROKER_UNAVAILABLE, "message broker" in the message', ms: streamMs });
    recordReliabilityCase({
      id: 'fault.nats.restarted',
      kind: 'fault',
      target: 'POST /api/conversation/text',
      input: 'NATS started again with the same JetStream store',
      outcome: 'turns succeed again within 15 s; the session kept its turns from before the outage',
      ms: recoveredMs,
    });
  });

  it('ends a stream under way with one BROKER_UNAVAILABLE error when NATS goes down mid-answer', async () => {
    let killed: Promise<void> | undefined;
    let killedAt = 0;
    const started = Date.now();
    const stream = await postSse(`${gateway.url}/api/conversation/text-stream`, TURN, {
      disconnectWhen: (event) => {
        if (event.event === 'response_chunk' && !killed) {
          killedAt = Date.now();
          killed = nats.kill();
        }
        return false;
      },
    });
    const endedAt = Date.now();
    await killed;
    const elapsedMs = endedAt - started;
    expect(stream.events.filter((e) => e.event === 'response_chunk').length).toBeGreaterThan(0);
    expect(stream.events.at(-1)).toEqual({ event: 'error', data: { code: 'BROKER_UNAVAILABLE', error: expect.stringMatching(/message broker/i), request_id: expect.any(String) } });
    expect(stream.events.filter((e) => e.event === 'error' || e.event === 'complete')).toHaveLength(1);
    console.log(`stream ended ${elapsedMs} ms after it started, NATS killed at its first chunk`);
    recordReliabilityCase({
      id: 'fault.nats.killed-mid-stream',
      kind: 'fault',
      target: 'POST /api/conversation/text-stream',
      input: 'NATS killed (SIGKILL) at the answer\'s first response_chunk',
      outcome: 'the chunks so far, then one error event BROKER_UNAVAILABLE',
      ms: endedAt - killedAt,
    });
    await nats.start();
    await waitUntil(async () => (await postJson(`${gateway.url}/api/conversation/text`, TURN)).status === 200, 'a turn after NATS is back', 15_000);
  });
});
