import type { ClientProxy } from '@nestjs/microservices';
import { ParleyError } from '@parley/contracts';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { freePort, metricValue, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, take } from 'rxjs';
import { health, metrics, natsClient, peak, startTtsService, stopAll, synthesize, synthesize$, waitForVoices, type VoiceEnv } from './support.js';

const sentences = (n: number) => Array.from({ length: n }, (_, i) => `This is sentence number ${i + 1}.`).join(' ');

async function failureOf(promise: Promise<unknown>): Promise<ParleyError> {
  try {
    await promise;
  } catch (error) {
    return error as ParleyError;
  }
  throw new Error('expected the request to fail');
}

describe('tts-service on the broker, with real sherpa-onnx and two tiny Piper voices', () => {
  let nats: TestNatsServer;
  let dir: string;
  let httpPort: number;
  let service: SpawnedService;
  let client: ClientProxy;
  let voices: VoiceEnv[];

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-tts-'));
    const en = await writeTinyPiperVoice(join(dir, 'en'), { sampleRate: 22050, seed: 1 });
    const es = await writeTinyPiperVoice(join(dir, 'es'), { sampleRate: 16000, seed: 2, language: 'Spanish', voice: 'es' });
    voices = [
      { id: 'tiny-en', languages: ['en'], model: en.model, tokens: en.tokens },
      { id: 'tiny-es', languages: ['es'], model: es.model, tokens: es.tokens },
    ];
    httpPort = await freePort();
    // Log level `log`: a test reads the load's lines (the warm-up).
    service = startTtsService(nats.url, voices, httpPort, { LOG_LEVEL: 'log' });
    client = natsClient(nats.url);
    await waitForVoices(client, service);
  });

  afterAll(() => stopAll({ client, service, nats, dir }));

  afterEach(() => {
    // Whatever a test sent, the process must still be running.
    if (service.child.exitCode !== null || service.child.signalCode !== null) {
      throw new Error(`tts-service died (${service.child.exitCode ?? service.child.signalCode}):\n${service.output()}`);
    }
  });

  it('warms each voice up with one synthesis before it says the model is loaded, and counts no request for it', async () => {
    const log = service.output();
    const warmed = ['tiny-en', 'tiny-es'].map((id) => log.search(new RegExp(`voice ${id} warmed up: a first synthesis took \\d+ ms`)));
    const loaded = log.search(/model \S+ loaded in \d+ ms/);
    expect(Math.min(...warmed)).toBeGreaterThan(-1);
    expect(loaded).toBeGreaterThan(Math.max(...warmed));
    const exposition = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metricValue(exposition, 'parley_request_duration_seconds_count', { operation: 'synthesize', outcome: 'ok' })).toBe(0);
  });

  it('streams one audio chunk per sentence, in order, then one done whose samples count the PCM', async () => {
    const { audio, done, pcm } = await synthesize(client, { text: 'Hello there. How are you today? I am fine, thanks.' });
    expect(audio.length).toBeGreaterThanOrEqual(3);
    expect(audio.map((m) => m.seq)).toEqual(audio.map((_, i) => i));
    expect(audio.every((m) => m.sample_rate === 22050 && m.pcm instanceof Uint8Array && m.pcm.byteLength > 0)).toBe(true);
    expect(done).toEqual({ type: 'done', voice: 'tiny-en', sample_rate: 22050, samples: pcm.byteLength / 2, replica: expect.any(String) });
    expect(peak(pcm)).toBeGreaterThan(3000);
  });

  it('gives more audio for longer text', async () => {
    const short = await synthesize(client, { text: 'Hello.' });
    const long = await synthesize(client, { text: 'Hello. ' + sentences(5) });
    expect(long.done.samples).toBeGreaterThan(3 * short.done.samples);
  });

  it('gives more samples at speed 0.5 than at speed 2', async () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    const slow = await synthesize(client, { text, speed: 0.5 });
    const normal = await synthesize(client, { text });
    const fast = await synthesize(client, { text, speed: 2 });
    expect(slow.done.samples).toBeGreaterThan(normal.done.samples);
    expect(normal.done.samples).toBeGreaterThan(fast.done.samples);
    expect(slow.done.samples / fast.done.samples).toBeCloseTo(4, 0);
  });

  it("picks each language's voice, observable in the sample rate", async () => {
    const en = await synthesize(client, { text: 'Good morning.', language: 'en' });
    const es = await synthesize(client, { text: 'Buenos días.', language: 'es' });
    expect([en.done.voice, en.done.sample_rate, en.audio[0]!.sample_rate]).toEqual(['tiny-en', 22050, 22050]);
    expect([es.done.voice, es.done.sample_rate, es.audio[0]!.sample_rate]).toEqual(['tiny-es', 16000, 16000]);
  });

  it('falls back to the default voice for a language without one, and honours a requested voice', async () => {
    expect((await synthesize(client, { text: 'Bonjour.', language: 'fr' })).done.voice).toBe('tiny-en');
    const chosen = await synthesize(client, { text: 'Hello.', language: 'en', voice: 'tiny-es' });
    expect([chosen.done.voice, chosen.done.sample_rate]).toEqual(['tiny-es', 16000]);
  });

  it('splits a very long sentence into messages small enough for the broker', async () => {
    // ~5000 characters without a sentence end at the slowest speed: ~20 MB of PCM in one engine chunk.
    const text = 'word '.repeat(999) + 'word';
    const { audio, done, pcm } = await synthesize(client, { text, speed: 0.25 });
    expect(pcm.byteLength).toBeGreaterThan(4 * 1024 * 1024);
    expect(audio.length).toBeGreaterThan(30);
    expect(Math.max(...audio.map((m) => m.pcm.byteLength))).toBeLessThanOrEqual(128 * 1024);
    expect(audio.map((m) => m.seq)).toEqual(audio.map((_, i) => i));
    expect(done.samples).toBe(pcm.byteLength / 2);
  });

  it.each([
    ['empty text', { text: '' }, /text: must not be empty or only whitespace/],
    ['whitespace-only text', { text: ' \n\t  ' }, /text: must not be empty or only whitespace/],
    ['speed 0', { text: 'Hello.', speed: 0 }, /speed: .*0\.25/],
    ['speed -1', { text: 'Hello.', speed: -1 }, /speed: .*0\.25/],
    ['speed NaN (null in JSON)', { text: 'Hello.', speed: Number.NaN }, /speed: .*(number|null)/i],
    ['speed 100', { text: 'Hello.', speed: 100 }, /speed: .*4/],
    ['20,000 characters', { text: 'a'.repeat(20_000) }, /text: must be at most 5000 characters/],
    ['an unknown voice', { text: 'Hello.', voice: 'en_GB-alba-medium' }, /unknown voice 'en_GB-alba-medium'; resident voices: tiny-en, tiny-es/],
    ['a speaker the voice lacks', { text: 'Hello.', speaker_id: 3 }, /speaker_id: 3 is out of range; voice tiny-en has speaker ids 0-0/],
    ['no text', { text: undefined }, /text: .*(string|required)/i],
    ['a bad request id', { text: 'Hello.', request_id: 'x' }, /request_id: must be 8-64 characters/],
  ])('refuses %s with INVALID_REQUEST and then still answers a good request', async (_name, request, message) => {
    const error = await failureOf(synthesize(client, request));
    expect(error).toBeInstanceOf(ParleyError);
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.message).toMatch(message);
    const next = await synthesize(client, { text: 'Still here.' });
    expect(next.done.samples).toBeGreaterThan(0);
  });

  it('ends a synthesis the caller abandoned mid-stream, frees its slot and keeps serving', async () => {
    const ended = async (outcome: string) =>
      metricValue(await metrics(httpPort), 'parley_request_duration_seconds_count', { operation: 'synthesize', outcome });
    const before = await ended('cancelled');
    const okBefore = await ended('ok');
    const first = await firstValueFrom(synthesize$(client, { text: sentences(160), speed: 0.25 }).pipe(take(1)));
    expect(first).toEqual(expect.objectContaining({ type: 'audio', seq: 0 }));
    // On a fast, idle machine the tiny voice can finish all 160 sentences before the cancel lands
    // (then the request ends `ok`): what must hold either way is that it ended and freed its slot.
    // Counting a cancel as `cancelled` once the engine stops is unit-tested (engine-request.test.ts).
    await waitUntil(
      async () => (await ended('cancelled')) > before || (await ended('ok')) > okBefore,
      'the service to end the abandoned synthesis',
      15_000,
    );
    expect(metricValue(await metrics(httpPort), 'parley_requests_in_flight', { operation: 'synthesize' })).toBe(0);
    expect((await synthesize(client, { text: 'After the cancel.' })).done.samples).toBeGreaterThan(0);
  });

  it('keeps its voices resident: loaded once after many requests, sequential and concurrent', async () => {
    for (let i = 0; i < 10; i++) await synthesize(client, { text: `Request ${i}.`, language: i % 2 ? 'es' : 'en' });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => synthesize(client, { text: sentences(3 + (i % 3)) })));
    expect(results.every((r) => r.done.samples > 0)).toBe(true);
    expect(await health(client)).toEqual({
      service: 'tts',
      status: 'loaded',
      model: 'tiny-en,tiny-es',
      model_loads: 1,
      replica: results[0]!.done.replica,
    });
    const text = await metrics(httpPort);
    expect(metricValue(text, 'parley_model_loads_total')).toBe(1);
    expect(metricValue(text, 'parley_model_loaded', { model: 'tiny-en,tiny-es' })).toBe(1);
    expect(metricValue(text, 'parley_request_duration_seconds_count', { operation: 'synthesize', outcome: 'ok' })).toBeGreaterThanOrEqual(22);
  });
});

describe('tts-service with a voice whose files are missing', () => {
  let nats: TestNatsServer;
  let dir: string;
  let service: SpawnedService;
  let client: ClientProxy;

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-tts-missing-'));
    const en = await writeTinyPiperVoice(join(dir, 'en'));
    service = startTtsService(
      nats.url,
      [
        { id: 'tiny-en', languages: ['en'], model: en.model, tokens: en.tokens },
        { id: 'ghost', languages: ['es'], model: join(dir, 'ghost', 'model.onnx'), tokens: en.tokens },
      ],
      await freePort(),
    );
    client = natsClient(nats.url);
  });

  afterAll(() => stopAll({ client, service, nats, dir }));

  it('reports the load error on the health subject, naming the file, and refuses synthesis without dying', async () => {
    const reported = await waitUntil(
      async () => {
        const h = await health(client);
        return h.status === 'error' ? h : undefined;
      },
      'the load to fail',
    ).catch((error) => {
      throw new Error(`${String(error)}\ntts-service output:\n${service.output()}`);
    });
    expect(reported).toEqual(
      expect.objectContaining({ status: 'error', model: 'tiny-en,ghost', model_loads: 0, error: `voice ghost: model file not found: ${join(dir, 'ghost', 'model.onnx')}` }),
    );
    const error = await failureOf(lastValueFrom(synthesize$(client, { text: 'Hello.' })));
    expect(error.code).toBe('MODEL_NOT_LOADED');
    expect(service.child.exitCode).toBeNull();
  });
});

describe('tts-service with a short generation timeout', () => {
  let nats: TestNatsServer;
  let dir: string;
  let httpPort: number;
  let service: SpawnedService;
  let client: ClientProxy;

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-tts-timeout-'));
    const en = await writeTinyPiperVoice(join(dir, 'en'));
    httpPort = await freePort();
    service = startTtsService(nats.url, [{ id: 'tiny-en', languages: ['en'], model: en.model, tokens: en.tokens }], httpPort, {
      TTS_GENERATION_TIMEOUT_MS: '100',
    });
    client = natsClient(nats.url);
    await waitForVoices(client, service);
  });

  afterAll(() => stopAll({ client, service, nats, dir }));

  it('abandons a generation that runs past the timeout with TIMEOUT, and answers the next request', async () => {
    // One ~5000-character sentence at the slowest speed: a single native run of about a second.
    const error = await failureOf(synthesize(client, { text: 'word '.repeat(999) + 'word', speed: 0.25 }));
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toMatch(/longer than 100 ms/);
    expect((await synthesize(client, { text: 'Quick.' })).done.samples).toBeGreaterThan(0);
    expect(metricValue(await metrics(httpPort), 'parley_request_duration_seconds_count', { operation: 'synthesize', outcome: 'TIMEOUT' })).toBe(1);
    expect(service.child.exitCode).toBeNull();
  });
});
