import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LANGUAGE_CODES } from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { concatPcm, samplesToMs, silencePcm, spokenPcm, wavFile } from '@parley/models/fixtures/speech';
import { writeTinyWhisperModel } from '@parley/models/fixtures/whisper';
import { freePort, metricValue, spawnService, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { LiveSocket, upgradeRefusal, type ServerEvent } from './live-support.js';
import { loadGatewayConfig } from '../src/config.js';
import { getJson, startLlmService, startTestGateway, STT_SERVICE_MAIN, TTS_SERVICE_MAIN, type TestGateway } from './support.js';

const TOLERANCE_MS = 150;

/** The events of one turn must follow the live order; returns them by name. */
function expectVoiceTurn(events: ServerEvent[], truth: { startMs: number; endMs: number }) {
  const names = events.map((e) => e.event);
  expect(names[0]).toBe('speech_started');
  const stopped = names.indexOf('speech_stopped');
  expect(names.slice(1, stopped).every((n) => n === 'partial_transcription')).toBe(true);
  expect(names.slice(stopped + 1, stopped + 3)).toEqual(['transcription', 'response_start']);
  expect(names.at(-1)).toBe('complete');
  expect(names.filter((n) => ['complete', 'interrupted', 'error'].includes(n))).toHaveLength(1);
  expect(Math.abs(events[0]!.data.at_ms - truth.startMs)).toBeLessThanOrEqual(TOLERANCE_MS);
  expect(Math.abs(events[stopped]!.data.at_ms - truth.endMs)).toBeLessThanOrEqual(TOLERANCE_MS);
  const chunks = events.filter((e) => e.event === 'response_chunk').map((e) => e.data.chunk as string);
  expect(events.at(-1)!.data.full_response).toBe(chunks.join(''));
  expect(events.some((e) => e.event === 'audio')).toBe(true);
  return { partials: stopped - 1, transcription: events[stopped + 1]!.data };
}

/**
 * The live conversation socket on real engines and a real broker: the stt-service (Silero VAD +
 * whisper-server), the llm-service (tiny generated model) and the tts-service (tiny Piper voice),
 * with a gateway in process. Speech is espeak-ng trimmed by sox (truth known to the sample),
 * streamed in 40 ms frames at real-time pace.
 */
describe('live conversation over a WebSocket', () => {
  let nats: TestNatsServer;
  let dir: string;
  let first: Int16Array;
  let second: Int16Array;
  const services: Record<string, SpawnedService> = {};
  const metricsUrls: Record<string, string> = {};
  let gateway: TestGateway;
  let liveUrl: string;
  /** Answers up to 2000 tokens (the endless model writes on): long enough to be interrupted. */
  let longGateway: TestGateway;
  let longUrl: string;
  const query = 'language=en&difficulty=beginner&scenario=greeting';

  async function metric(service: string, name: string, labels: Record<string, string> = {}) {
    return metricValue(await (await fetch(metricsUrls[service]!)).text(), name, labels);
  }

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-live-'));
    first = spokenPcm('Hello there. I would like a cup of coffee, please, and a glass of water.');
    second = spokenPcm('Where is the train station?');
    // Endless: the answer goes on until the token limit, long enough to be interrupted.
    const gguf = await writeTinyGguf(join(dir, 'endless.gguf'), { endless: true });
    // Seed 1: a tiny whisper whose (nonsense) transcripts of short audio are not empty, so partials show.
    await writeTinyWhisperModel(join(dir, 'whisper.bin'), { seed: 1 });
    await writeTinyPiperVoice(join(dir, 'voice'));
    const ports = { llm: await freePort(), stt: await freePort(), tts: await freePort() };
    for (const [name, port] of Object.entries(ports)) metricsUrls[name] = `http://127.0.0.1:${port}/metrics`;
    services.llm = startLlmService(nats.url, gguf.path, ports.llm);
    services.stt = spawnService('stt-service', STT_SERVICE_MAIN, {
      NATS_URL: nats.url,
      STT_MODEL_PATH: join(dir, 'whisper.bin'),
      STT_HTTP_PORT: String(ports.stt),
    });
    services.tts = spawnService('tts-service', TTS_SERVICE_MAIN, {
      NATS_URL: nats.url,
      TTS_VOICES: JSON.stringify([
        { id: 'tiny-voice', languages: LANGUAGE_CODES, model: join(dir, 'voice', 'model.onnx'), tokens: join(dir, 'voice', 'tokens.txt') },
      ]),
      TTS_THREADS: '1',
      TTS_HTTP_PORT: String(ports.tts),
    });
    gateway = await startTestGateway(nats.url, { llmMaxTokens: 24 });
    liveUrl = `${gateway.url.replace('http', 'ws')}/api/conversation/live?${query}`;
    longGateway = await startTestGateway(nats.url, {
      llmMaxTokens: 2000,
      liveIdleTimeoutMs: 2000,
      // The edge's stream cap counts live sockets too.
      edge: { ...loadGatewayConfig({}).edge, maxStreamsPerClient: 2 },
    });
    longUrl = `${longGateway.url.replace('http', 'ws')}/api/conversation/live?${query}`;
    await waitUntil(async () => {
      const { models } = (await getJson(`${gateway.url}/api/health/models`)).body;
      return models.stt === 'loaded' && models.llm === 'loaded' && models.tts === 'loaded';
    }, 'every model to load', 90_000).catch((error) => {
      throw new Error(`${String(error)}\n${Object.values(services).map((s) => `--- ${s.name}\n${s.output()}`).join('\n')}`);
    });
    // whisper-server's first inference allocates its buffers: do it before timing-sensitive tests.
    const warm = new FormData();
    warm.append('audio', new Blob([wavFile(first)]), 'warm.wav');
    expect((await fetch(`${gateway.url}/api/conversation/transcribe`, { method: 'POST', body: warm })).status).toBe(200);
  }, 180_000);

  afterAll(async () => {
    await longGateway?.close();
    await gateway?.close();
    await Promise.all(Object.values(services).map((s) => s.stop()));
    await nats?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers two utterances streamed at real-time pace: two turns with the live events, at_ms within 150 ms', async () => {
    const live = new LiveSocket(liveUrl);
    const ready = await live.ready();
    expect(ready.data).toEqual({ session_id: expect.any(String), sample_rate: 16_000 });

    await live.stream(silencePcm(800));
    const firstStart = live.sent;
    await live.stream(first);
    await live.silenceUntil(() => live.events.some((e) => e.event === 'complete'));
    const secondStart = live.sent;
    await live.stream(second);
    await live.silenceUntil(() => live.events.filter((e) => e.event === 'complete').length === 2);

    const turnIds = [...new Set(live.events.filter((e) => e.event === 'speech_started').map((e) => e.data.turn_id as string))];
    expect(turnIds).toHaveLength(2);
    const one = expectVoiceTurn(live.of(turnIds[0]!), { startMs: samplesToMs(firstStart), endMs: samplesToMs(firstStart + first.length) });
    expectVoiceTurn(live.of(turnIds[1]!), { startMs: samplesToMs(secondStart), endMs: samplesToMs(secondStart + second.length) });
    expect(one.partials).toBeGreaterThanOrEqual(1);
    // The first turn ended before the second began.
    const firstComplete = live.events.findIndex((e) => e.event === 'complete');
    expect(firstComplete).toBeLessThan(live.events.findIndex((e) => e.event === 'speech_started' && e.data.turn_id === turnIds[1]));
    // Stored: both turns, the answers whole (they were heard to the end).
    const session = (await getJson(`${gateway.url}/api/conversation/session/${ready.data.session_id}`)).body;
    expect(session.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(session.messages[0].content).toBe(one.transcription.text);
    live.close();
  }, 90_000);

  it('answers a typed text turn on the same socket and keeps going after malformed messages', async () => {
    const live = new LiveSocket(liveUrl);
    await live.ready();
    live.json('this is not JSON');
    live.json({ type: 'dance' });
    live.json({ type: 'text', message: '' });
    live.binary(new Uint8Array(3)); // PCM16 needs an even number of bytes
    await live.until('four errors', () => live.events.filter((e) => e.event === 'error').length >= 4);
    const errors = live.events.filter((e) => e.event === 'error');
    for (const error of errors) {
      expect(error.data).toEqual({ error: expect.any(String), code: 'INVALID_REQUEST' });
    }
    live.json({ type: 'text', message: 'Hello, how are you?' });
    const complete = await live.until('the typed turn to complete', (e) => e.event === 'complete');
    const events = live.of(complete.data.turn_id);
    expect(events.map((e) => e.event)[0]).toBe('response_start');
    expect(events.some((e) => e.event === 'audio')).toBe(true);
    expect(live.closed).toBeUndefined();
    live.close();
  }, 60_000);

  it('barge-in: speech during the answer cuts it (interrupted, heard = what was playing), stops generation and synthesis, stores what was heard', async () => {
    const live = new LiveSocket(longUrl);
    const ready = await live.ready();
    await live.stream(silencePcm(500));
    await live.stream(first);
    // Silence until the first answer's first audio arrives, then the learner speaks again at once.
    await live.silenceUntil(() => live.events.some((e) => e.event === 'audio'));
    const cancelsBefore = await metric('llm', 'parley_request_duration_seconds_count', { operation: 'chat', outcome: 'cancelled' });
    await live.stream(second, () => live.events.some((e) => e.event === 'interrupted'));
    const interrupted = await live.until('interrupted', (e) => e.event === 'interrupted');
    const turn = interrupted.data.turn_id as string;
    await live.until('the new turn', (e) => e.event === 'speech_started' && e.data.turn_id !== turn);

    const events = live.of(turn);
    const names = events.map((e) => e.event);
    expect(names.at(-1)).toBe('interrupted');
    expect(names.filter((n) => ['complete', 'interrupted', 'error', 'feedback'].includes(n))).toEqual(['interrupted']);
    // interrupted came before the new turn's speech_started.
    const next = live.events.findIndex((e) => e.event === 'speech_started' && e.data.turn_id !== turn);
    expect(live.events.indexOf(interrupted)).toBeLessThan(next);
    // heard: the sentences whose playback had started (at least the first), in order.
    const sentences = events.filter((e) => e.event === 'audio').map((e) => e.data.sentence as string);
    const heard = interrupted.data.heard as string;
    expect(heard.length).toBeGreaterThan(0);
    const prefixes = sentences.map((_, i) => sentences.slice(0, i + 1).join(' '));
    expect(prefixes).toContain(heard);

    // Generation stopped in the llm-service; no synthesis started after the interruption.
    await waitUntil(
      async () => (await metric('llm', 'parley_request_duration_seconds_count', { operation: 'chat', outcome: 'cancelled' })) > cancelsBefore,
      'the llm-service to stop the generation',
      5000,
    );
    live.close(); // the new turn goes away with the socket
    await new Promise((resolve) => setTimeout(resolve, 300));
    const synthesized = async () =>
      (await metric('tts', 'parley_request_duration_seconds_count', { operation: 'synthesize' })) +
      (await metric('tts', 'parley_requests_in_flight', { operation: 'synthesize' }));
    const afterCut = await synthesized();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await synthesized()).toBe(afterCut);

    const gatewayMetrics = await (await fetch(`${longGateway.url}/metrics`)).text();
    expect(metricValue(gatewayMetrics, 'parley_live_interruptions_total')).toBeGreaterThanOrEqual(1);
    expect(metricValue(gatewayMetrics, 'parley_live_speech_end_to_first_audio_seconds_count')).toBeGreaterThanOrEqual(1);

    // Stored: the learner's words and only what was heard.
    const transcription = events.find((e) => e.event === 'transcription')!.data.text as string;
    await waitUntil(async () => (await getJson(`${gateway.url}/api/conversation/session/${ready.data.session_id}`)).body.count === 2, 'the cut turn to be stored', 5000);
    const session = (await getJson(`${gateway.url}/api/conversation/session/${ready.data.session_id}`)).body;
    expect(session.messages).toEqual([
      { role: 'user', content: transcription, language: 'en' },
      { role: 'assistant', content: heard, language: 'en' },
    ]);
  }, 90_000);

  it('stops generation when the socket closes mid-answer', async () => {
    const live = new LiveSocket(longUrl);
    await live.ready();
    const cancelsBefore = await metric('llm', 'parley_request_duration_seconds_count', { operation: 'chat', outcome: 'cancelled' });
    live.json({ type: 'text', message: 'Tell me a long story, please.' });
    await live.until('the answer to start', (e) => e.event === 'response_chunk');
    live.close();
    await waitUntil(
      async () => (await metric('llm', 'parley_request_duration_seconds_count', { operation: 'chat', outcome: 'cancelled' })) > cancelsBefore,
      'the llm-service to stop the generation',
      5000,
    );
  }, 30_000);

  it('refuses before the upgrade, with the HTTP error body: a bad query (400), too many sockets (429)', async () => {
    const bad = await upgradeRefusal(longUrl.replace('language=en', 'language=xx'));
    expect(bad).toEqual({ status: 400, body: expect.objectContaining({ statusCode: 400, message: expect.stringMatching(/language/) }) });
    const held = [new LiveSocket(longUrl), new LiveSocket(longUrl)];
    await Promise.all(held.map((s) => s.ready()));
    const tooMany = await upgradeRefusal(longUrl);
    expect(tooMany).toEqual({ status: 429, body: expect.objectContaining({ statusCode: 429, code: 'TOO_MANY_REQUESTS' }) });
    await Promise.all(held.map((s) => s.closeAndWait()));
  }, 30_000);

  it('closes an idle socket with 1000 (LIVE_IDLE_TIMEOUT_S)', async () => {
    const live = new LiveSocket(longUrl);
    await live.ready();
    await waitUntil(() => live.closed, 'the idle socket to be closed', 10_000);
    expect(live.closed!.code).toBe(1000);
  }, 30_000);

  it('closes its sockets with 1012 when the gateway shuts down', async () => {
    const leaving = await startTestGateway(nats.url);
    const live = new LiveSocket(`${leaving.url.replace('http', 'ws')}/api/conversation/live?${query}`);
    await live.ready();
    await leaving.close();
    await waitUntil(() => live.closed, 'the socket to be closed', 10_000);
    expect(live.closed!.code).toBe(1012);
  }, 30_000);

  it('ends the turn with error when its stt replica dies mid-utterance, and goes on with another replica', async () => {
    const port = await freePort();
    metricsUrls.stt2 = `http://127.0.0.1:${port}/metrics`;
    services.stt2 = spawnService('stt-service-2', STT_SERVICE_MAIN, {
      NATS_URL: nats.url,
      STT_MODEL_PATH: join(dir, 'whisper.bin'),
      STT_HTTP_PORT: String(port),
    });
    await waitUntil(async () => (await metric('stt2', 'parley_model_loaded').catch(() => 0)) === 1, 'the second stt replica to load', 60_000);
    const streams = async () => ({ stt: await metric('stt', 'parley_stt_live_streams'), stt2: await metric('stt2', 'parley_stt_live_streams') });
    const before = await streams();
    const live = new LiveSocket(liveUrl);
    await live.ready();
    await live.stream(silencePcm(300));
    await live.stream(first.subarray(0, 16_000 * 1.5)); // mid-utterance...
    await live.until('speech_started', (e) => e.event === 'speech_started');
    const now = await streams();
    const owner = now.stt > before.stt ? 'stt' : 'stt2';
    expect(now[owner]).toBe(before[owner] + 1);
    const survivor = owner === 'stt' ? 'stt2' : 'stt';
    services[owner]!.child.kill('SIGKILL'); // ...its replica dies
    await live.silenceUntil(() => live.events.some((e) => e.event === 'error'), 10_000);
    const failed = live.events.find((e) => e.event === 'error')!;
    expect(failed.data).toEqual({ turn_id: 't1', code: 'TIMEOUT', error: expect.stringMatching(/lost mid-utterance/) });
    expect(live.closed).toBeUndefined();
    // The conversation goes on: the next utterance is heard and answered by the other replica.
    await live.stream(silencePcm(300));
    await live.stream(second);
    await live.silenceUntil(() => live.events.some((e) => e.event === 'complete'));
    expect(live.of('t2').map((e) => e.event).at(-1)).toBe('complete');
    // The new stream is the survivor's (streams of earlier tests may still be winding down there).
    expect(await metric(survivor, 'parley_stt_live_streams')).toBeGreaterThan(before[survivor]);
    live.close();
  }, 90_000);
});
