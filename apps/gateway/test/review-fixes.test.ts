import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { AUDIO_BUCKET, LANGUAGE_CODES } from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { writeTinyWhisperModel } from '@parley/models/fixtures/whisper';
import { freePort, metricValue, spawnService, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import {
  getJson,
  makeSpeech,
  postForm,
  postJson,
  startLlmService,
  startTestGateway,
  STT_SERVICE_MAIN,
  TTS_SERVICE_MAIN,
  type TestGateway,
} from './support.js';
import { loadGatewayConfig } from '../src/config.js';

const FIELDS = { language: 'en', difficulty: 'beginner', scenario: 'greeting' };
const MINUTE_NS = 60 * 1_000_000_000;

/**
 * Bugs a review of the first version found (issue 7), each on the real services: buckets that
 * already exist with other settings, a blocking voice turn that synthesized speech it threw
 * away, and synthesis of text with nothing to speak.
 */
describe('fixes from the core review, on real services', () => {
  let nats: TestNatsServer;
  let admin: NatsConnection;
  let dir: string;
  let speechWav: Uint8Array;
  let ttsMetricsUrl: string;
  const services: SpawnedService[] = [];
  let gateway: TestGateway;

  beforeAll(async () => {
    nats = await startNatsServer();
    admin = await connect({ servers: nats.url });
    // An older deployment left both buckets behind with other settings (a 1-minute TTL).
    await new Kvm(admin).create('parley_sessions', { history: 1, ttl: 60_000 });
    await new Objm(admin).create('parley_audio', { ttl: MINUTE_NS });

    dir = await mkdtemp(join(tmpdir(), 'parley-review-'));
    speechWav = await readFile(makeSpeech(dir, 'Hello! My name is Anna.').wav);
    const gguf = await writeTinyGguf(join(dir, 'model.gguf'));
    await writeTinyWhisperModel(join(dir, 'whisper.bin'));
    await writeTinyPiperVoice(join(dir, 'voice'));
    services.push(startLlmService(nats.url, gguf.path, await freePort()));
    services.push(
      spawnService('stt-service', STT_SERVICE_MAIN, {
        NATS_URL: nats.url,
        STT_MODEL_PATH: join(dir, 'whisper.bin'),
        STT_THREADS: '1',
        STT_HTTP_PORT: String(await freePort()),
      }),
    );
    const ttsPort = await freePort();
    ttsMetricsUrl = `http://127.0.0.1:${ttsPort}/metrics`;
    services.push(
      spawnService('tts-service', TTS_SERVICE_MAIN, {
        NATS_URL: nats.url,
        TTS_VOICES: JSON.stringify([
          { id: 'tiny-voice', languages: LANGUAGE_CODES, model: join(dir, 'voice', 'model.onnx'), tokens: join(dir, 'voice', 'tokens.txt') },
        ]),
        TTS_THREADS: '1',
        TTS_HTTP_PORT: String(ttsPort),
      }),
    );
    gateway = await startTestGateway(nats.url, { llmMaxTokens: 60 });
    await waitUntil(async () => {
      const { models } = (await getJson(`${gateway.url}/api/health/models`)).body;
      return models.llm === 'loaded' && models.stt === 'loaded' && models.tts === 'loaded';
    }, 'every model loaded', 60_000).catch((error) => {
      throw new Error(`${String(error)}\n${services.map((s) => `--- ${s.name}\n${s.output()}`).join('\n')}`);
    });
  }, 180_000);

  afterAll(async () => {
    await gateway?.close();
    await Promise.all(services.map((s) => s.stop()));
    await admin?.close();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const synthesisRequests = async () =>
    metricValue(await (await fetch(ttsMetricsUrl)).text(), 'parley_request_duration_seconds_count', { operation: 'synthesize' });

  it('stores turns and takes uploads in buckets that already existed with other settings, and applies its own', async () => {
    const text = await postJson(`${gateway.url}/api/conversation/text`, { message: 'Hello', session_id: 'old-bucket' });
    expect(text.status).toBe(200);
    expect((await getJson(`${gateway.url}/api/conversation/session/old-bucket`)).body.count).toBe(2);

    const transcribed = await postForm(`${gateway.url}/api/conversation/transcribe`, {}, { field: 'audio', name: 'a.wav', bytes: speechWav });
    expect(transcribed.status).toBe(200);

    const jsm = await jetstreamManager(admin);
    expect((await jsm.streams.info('OBJ_parley_audio')).config.max_age).toBe(AUDIO_BUCKET.ttlMs * 1_000_000);
    expect((await jsm.streams.info('KV_parley_sessions')).config.max_age).toBe(loadGatewayConfig({}).sessionTtlSeconds * 1_000_000_000);
  });

  it('answers the blocking speak route without synthesizing speech it would throw away', async () => {
    const before = await synthesisRequests();
    const res = await postForm(`${gateway.url}/api/conversation/speak`, FIELDS, { field: 'audio', name: 'a.wav', bytes: speechWav });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { response: string }).response).toMatch(/\S/);
    expect(await synthesisRequests()).toBe(before);
  });

  it.each([
    ['only control characters', '\u0001\u0002\u0007'],
    ['only punctuation', '...!? -- ¿¡'],
    ['only symbols and emoji', '*** 🙂 ###'],
  ])('refuses to synthesize text with %s: a 400 saying there is nothing to speak', async (_what, text) => {
    const before = await synthesisRequests();
    const res = await postForm(`${gateway.url}/api/conversation/synthesize`, { text });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/nothing to speak/);
    expect(await synthesisRequests()).toBe(before);
  });
});
