import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LANGUAGE_CODES } from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { freePort, spawnService, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { recordReliabilityCase } from '../../../tooling/reliability.js';
import { waitForModel } from './system-support.js';
import { getJson, postJson, postSse, startLlmService, startTestGateway, TTS_SERVICE_MAIN, type TestGateway } from './support.js';

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
  let tts: SpawnedService;
  let gateway: TestGateway;

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-outage-'));
    // An endless model cut at max_tokens: a turn streams long enough to lose the broker mid-way.
    const gguf = await writeTinyGguf(join(dir, 'model.gguf'), { endless: true });
    llm = startLlmService(nats.url, gguf.path, await freePort());
    // A tts-service too: every service must find the broker again, not only the llm-service.
    const voice = await writeTinyPiperVoice(join(dir, 'voice'));
    tts = spawnService('tts-service', TTS_SERVICE_MAIN, {
      NATS_URL: nats.url,
      TTS_HTTP_PORT: String(await freePort()),
      TTS_VOICES: JSON.stringify([{ id: 'tiny', languages: LANGUAGE_CODES, model: voice.model, tokens: voice.tokens }]),
    });
    gateway = await startTestGateway(nats.url, { llmMaxTokens: 300 });
    await waitForModel(gateway.url, 'llm', [llm, tts]);
    await waitForModel(gateway.url, 'tts', [llm, tts]);
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await llm?.stop();
    await tts?.stop();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 BROKER_UNAVAILABLE with Retry-After while NATS is down, ends streams with that error, and works again once it is back', async () => {
    const before = await postJson(`${gateway.url}/api/conversation/text`, { ...TURN, session_id: 'outage', learner_id: 'outage-learner' });
    expect(before.status).toBe(200);
    const progressBefore = (await getJson(`${gateway.url}/api/learners/outage-learner`)).body;
    expect(progressBefore.languages.es).toEqual(expect.objectContaining({ turns: 1 }));

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
    // Every client reconnects within 5 s (they retry every NATS_RECONNECT.reconnectTimeWait, 500 ms).
    await waitUntil(async () => (await postJson(`${gateway.url}/api/conversation/text`, TURN)).status === 200, 'a turn within 5 s of NATS being back', 5_000);
    const recoveredMs = Date.now() - started;
    const spoken = await postSse(`${gateway.url}/api/conversation/text-stream`, { ...TURN, tts: true });
    expect(spoken.events.some((e) => e.event === 'audio')).toBe(true);
    expect(spoken.events.at(-1)?.event).toBe('complete');
    // Sessions and learner progress kept across the restart (same JetStream store), plus the new turn.
    expect((await getJson(`${gateway.url}/api/learners/outage-learner`)).body).toEqual(progressBefore);
    const after = await postJson(`${gateway.url}/api/conversation/text`, { ...TURN, session_id: 'outage' });
    expect(after.status).toBe(200);
    expect((await getJson(`${gateway.url}/api/conversation/session/outage`)).body.count).toBe(4);
    const outage = { kind: 'fault' as const, input: 'NATS killed (SIGKILL) while the system is idle' };
    recordReliabilityCase({ ...outage, id: 'fault.nats.down-blocking', target: 'POST /api/conversation/text', outcome: '503 BROKER_UNAVAILABLE with Retry-After, "message broker" in the message', ms: blockingMs });
    recordReliabilityCase({ ...outage, id: 'fault.nats.down-stream', target: 'POST /api/conversation/text-stream', outcome: 'one error event BROKER_UNAVAILABLE, "message broker" in the message', ms: streamMs });
    recordReliabilityCase({
      id: 'fault.nats.restarted',
      kind: 'fault',
      target: 'POST /api/conversation/text',
      input: 'NATS started again with the same JetStream store',
      outcome: 'llm-service, tts-service and gateway reconnect: text and spoken turns succeed again within 5 s; the session and the learner progress from before the outage are intact',
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
