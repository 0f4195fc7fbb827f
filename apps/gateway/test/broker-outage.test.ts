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
    const restartedAt = Date.now();
    // Every client reconnects within 5 s (they retry every NATS_RECONNECT.reconnectTimeWait, 500 ms).
    await waitUntil(async () => (await postJson(`${gateway.url}/api/conversation/text`, TURN)).status === 200, 'a turn within 5 s of NATS being back', 5_000);
    const firstOkMs = Date.now() - restartedAt;
    const spoken = await postSse(`${gateway.url}/api/conversation/text-stream`, { ...TURN, tts: true });
    expect(spoken.events.some((e) => e.event === 'audio')).toBe(true);
    expect(spoken.events.at(-1)?.event).toBe('complete');
    // Sessions and learner progress kept across the restart (same JetStream store), plus the new turn.
    expect((await getJson(`${gateway.url}/api/learners/outage-learner`)).body).toEqual(progressBefore);
    const after = await postJson(`${gateway.url}/api/conversation/text`, { ...TURN, session_id: 'outage' });
    expect(after.status).toBe(200);
    expect((await getJson(`${gateway.url}/api/conversation/session/outage`)).body.count).toBe(4);
    recordReliabilityCase({
      id: 'fault.nats.restart-same-store',
      kind: 'fault',
      target: 'nats',
      input: 'nats-server killed (SIGKILL) and started again on the same JetStream store, llm-service, tts-service and gateway running',
      outcome:
        `while down: POST text ${res.status} BROKER_UNAVAILABLE Retry-After ${String(res.headers.get('retry-after'))}, text-stream one error ` +
        `${String(stream.events.at(-1)?.data.code)}; after restart: text turn 200, spoken turn with audio ${String(spoken.events.at(-1)?.event)}, ` +
        `session and learner progress intact`,
      ms: firstOkMs,
    });
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
    recordReliabilityCase({
      id: 'fault.nats.kill-mid-stream',
      kind: 'fault',
      target: 'nats',
      input: 'nats-server killed (SIGKILL) at the first chunk of a text-stream',
      outcome: `stream ended with one ${String(stream.events.at(-1)?.event)} ${String(stream.events.at(-1)?.data.code)} after its chunks`,
      ms: elapsedMs,
    });
    await nats.start();
    await waitUntil(async () => (await postJson(`${gateway.url}/api/conversation/text`, TURN)).status === 200, 'a turn after NATS is back', 5_000);
  });
});
