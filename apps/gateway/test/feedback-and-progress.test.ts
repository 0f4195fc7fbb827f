import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { feedbackSchema, LANGUAGE_CODES, learnerProgressSchema } from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { writeTinyWhisperModel } from '@parley/models/fixtures/whisper';
import { freePort, spawnService, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { parse as parseCsv } from 'csv-parse/sync';
import {
  getJson,
  makeSpeech,
  postForm,
  postJson,
  postSse,
  readSse,
  startLlmService,
  startTestGateway,
  STT_SERVICE_MAIN,
  TTS_SERVICE_MAIN,
  type SseEventRecord,
  type TestGateway,
} from './support.js';
import { startEdgeGateway } from './edge-support.js';

const TURN = { message: 'Yo tener hambre', language: 'es', difficulty: 'beginner', scenario: 'restaurant' };
const FORBIDDEN_KEYS = ['text', 'chunk', 'status', 'full_response', 'error'];

/**
 * Feedback and learner progress on real engines and a real broker: node-llama-cpp writes the
 * feedback under the feedback schema's grammar on the generated model (nonsense words, exact
 * structure), whisper-server transcribes, sherpa-onnx speaks, JetStream KV keeps progress.
 */
describe('feedback events and learner progress', () => {
  let nats: TestNatsServer;
  let dir: string;
  let speechWav: Buffer;
  const services: SpawnedService[] = [];
  let gateway: TestGateway;

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-feedback-'));
    speechWav = await readFile(makeSpeech(dir, 'Hello! How do you say the bill in Spanish?').wav);
    const gguf = await writeTinyGguf(join(dir, 'tiny.gguf'));
    await writeTinyWhisperModel(join(dir, 'whisper.bin'));
    await writeTinyPiperVoice(join(dir, 'voice'));
    services.push(
      startLlmService(nats.url, gguf.path, await freePort(), { LLM_MAX_QUEUED: '32' }),
      spawnService('stt-service', STT_SERVICE_MAIN, {
        NATS_URL: nats.url,
        STT_MODEL_PATH: join(dir, 'whisper.bin'),
        STT_THREADS: '1',
        STT_HTTP_PORT: String(await freePort()),
      }),
      spawnService('tts-service', TTS_SERVICE_MAIN, {
        NATS_URL: nats.url,
        TTS_VOICES: JSON.stringify([
          { id: 'tiny-voice', languages: LANGUAGE_CODES, model: join(dir, 'voice', 'model.onnx'), tokens: join(dir, 'voice', 'tokens.txt') },
        ]),
        TTS_THREADS: '1',
        TTS_HTTP_PORT: String(await freePort()),
      }),
    );
    gateway = await startTestGateway(nats.url);
    await waitUntil(async () => (await getJson(`${gateway.url}/api/health/ready`)).status === 200, 'every model to load', 90_000).catch((error) => {
      throw new Error(`${String(error)}\n${services.map((s) => `--- ${s.name}\n${s.output()}`).join('\n')}`);
    });
  }, 180_000);

  afterAll(async () => {
    await gateway?.close();
    await Promise.all(services.map((s) => s.stop()));
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const textStream = (body: object) => postSse(`${gateway.url}/api/conversation/text-stream`, body);
  const names = (events: SseEventRecord[]) => events.map((e) => e.event);

  /** Exactly one feedback event, after the last response_chunk, before the one complete; it matches the schema. */
  function expectOneFeedback(events: SseEventRecord[]) {
    const order = names(events);
    expect(order.filter((name) => name === 'feedback')).toHaveLength(1);
    expect(order.indexOf('feedback')).toBeGreaterThan(order.lastIndexOf('response_chunk'));
    expect(order.at(-1)).toBe('complete');
    expect(order.filter((name) => name === 'complete' || name === 'error')).toHaveLength(1);
    const feedback = events.find((e) => e.event === 'feedback')!.data;
    expect(feedbackSchema.parse(feedback)).toEqual(feedback);
    expect(feedback.vocabulary).not.toHaveLength(0);
    for (const key of FORBIDDEN_KEYS) expect(feedback).not.toHaveProperty(key);
    expect(events.at(-1)!.data).not.toHaveProperty('feedback_error');
    return feedback;
  }

  it('text-stream with feedback:true: one schema-valid feedback event between the last chunk and complete', async () => {
    const { events } = await textStream({ ...TURN, feedback: true, native_language: 'de' });
    expectOneFeedback(events);
    const chunks = events.filter((e) => e.event === 'response_chunk').map((e) => e.data.chunk).join('');
    expect(events.at(-1)!.data.full_response).toBe(chunks);
  });

  it('text-stream without the flag: the events of before, and no feedback', async () => {
    const { events } = await textStream(TURN);
    const order = names(events);
    expect(order[0]).toBe('response_start');
    expect(order.at(-1)).toBe('complete');
    expect(new Set(order)).toEqual(new Set(['response_start', 'response_chunk', 'complete']));
    expect(Object.keys(events.at(-1)!.data).sort()).toEqual(['full_response', 'language', 'session_id', 'timings', 'usage']);
  });

  it('text-stream with speech and feedback: the feedback comes after the first audio, and the answer is fully spoken', async () => {
    const { events } = await textStream({ ...TURN, tts: true, feedback: true });
    expectOneFeedback(events);
    const order = names(events);
    expect(order.indexOf('audio')).toBeGreaterThan(-1);
    expect(order.indexOf('feedback')).toBeGreaterThan(order.indexOf('audio'));
    expect(events.at(-1)!.data.audio_available).toBe(true);
  });

  it('speak-stream with feedback:true: start, transcription, the answer, one feedback, complete', async () => {
    const res = await postForm(`${gateway.url}/api/conversation/speak-stream`, { language: 'es', difficulty: 'beginner', scenario: 'greeting', feedback: 'true' }, {
      field: 'audio',
      name: 'speech.wav',
      bytes: speechWav,
    });
    const { events } = await readSse(res, new AbortController());
    expect(names(events).slice(0, 3)).toEqual(['start', 'transcription', 'response_start']);
    expectOneFeedback(events);
  });

  it('blocking routes add the feedback field when asked, and only then', async () => {
    const withFeedback = await postJson(`${gateway.url}/api/conversation/text`, { ...TURN, feedback: true });
    expect(withFeedback.status).toBe(200);
    expect(feedbackSchema.parse(withFeedback.body.feedback)).toEqual(withFeedback.body.feedback);
    const without = await postJson(`${gateway.url}/api/conversation/text`, TURN);
    expect(Object.keys(without.body).sort()).toEqual(['language', 'response', 'session_id']);
  });

  it('completes the turn without a feedback event, saying why, when the feedback exceeds its token budget', async () => {
    const tight = await startTestGateway(nats.url, { feedbackMaxTokens: 64 });
    try {
      const { events } = await postSse(`${tight.url}/api/conversation/text-stream`, { ...TURN, feedback: true });
      expect(names(events)).not.toContain('feedback');
      expect(events.at(-1)).toEqual({
        event: 'complete',
        data: expect.objectContaining({ feedback_error: 'the feedback was cut by its token budget (FEEDBACK_MAX_TOKENS=64)' }),
      });
    } finally {
      await tight.close();
    }
  });

  it('transcribes a beginner in their own language when they speak it, and an advanced learner in the target language', async () => {
    const speak = async (difficulty: string) => {
      const res = await postForm(`${gateway.url}/api/conversation/speak`, { language: 'es', native_language: 'en', difficulty, scenario: 'restaurant' }, {
        field: 'audio',
        name: 'speech.wav',
        bytes: speechWav,
      });
      return (await res.json()) as Record<string, unknown>;
    };
    // English speech (espeak-ng): detected as English among Spanish and English.
    expect(await speak('beginner')).toMatchObject({ detected_language: 'en', transcribed_text: expect.stringMatching(/\S/) });
    expect(await speak('advanced')).toMatchObject({ detected_language: 'es' });
  });

  describe('learner progress', () => {
    const learner = (id: string) => getJson(`${gateway.url}/api/learners/${id}`);

    it('counts 10 concurrent turns of one learner, with the words and corrections of their feedback', async () => {
      const runs = await Promise.all(Array.from({ length: 10 }, () => textStream({ ...TURN, feedback: true, learner_id: 'ana' })));
      const words = new Set(runs.flatMap(({ events }) => (events.find((e) => e.event === 'feedback')!.data.vocabulary as { word: string }[]).map((w) => w.word.trim().toLowerCase())));
      const { status, body } = await learner('ana');
      expect(status).toBe(200);
      const progress = learnerProgressSchema.parse(body);
      expect(progress.languages.es).toEqual({ turns: 10, words: words.size, corrections: expect.any(Number) });
      expect(new Set(progress.vocabulary.map((w) => w.word.toLowerCase()))).toEqual(words);
      const seen = progress.vocabulary.reduce((sum, w) => sum + w.times_seen, 0);
      expect(seen).toBeGreaterThanOrEqual(10); // every turn added at least one word
    });

    it('keeps progress across a gateway restart', async () => {
      const before = (await learner('ana')).body;
      await gateway.close();
      gateway = await startTestGateway(nats.url);
      expect((await learner('ana')).body).toEqual(before);
    });

    it('exports the vocabulary as JSON and as CSV that parses, filtered by language', async () => {
      const json = await getJson(`${gateway.url}/api/learners/ana/vocabulary?language=es&format=json`);
      expect(json.body).toEqual({ learner_id: 'ana', language: 'es', vocabulary: expect.any(Array), count: json.body.vocabulary.length });
      const res = await fetch(`${gateway.url}/api/learners/ana/vocabulary?language=es&format=csv`);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="parley-vocabulary-ana-es.csv"');
      const rows = parseCsv(await res.text(), { columns: true }) as Record<string, string>[];
      expect(rows).toEqual(json.body.vocabulary.map((w: Record<string, string>) => ({ word: w.word, translation: w.translation, language: 'es' })));
      const other = await getJson(`${gateway.url}/api/learners/ana/vocabulary?language=fr`);
      expect(other.body.count).toBe(0);
    });

    it('forgets a deleted learner', async () => {
      const res = await fetch(`${gateway.url}/api/learners/ana`, { method: 'DELETE' });
      expect(await res.json()).toEqual({ status: 'cleared', learner_id: 'ana' });
      expect((await learner('ana')).body).toEqual({ learner_id: 'ana', languages: {}, vocabulary: [], recent_corrections: [] });
    });

    it("keeps each API key's learners in its own space: another key neither sees nor deletes them", async () => {
      const keyed = await startEdgeGateway(nats.url, { apiKeys: ['key-one-0123456789', 'key-two-0123456789'] });
      const as = (key: string) => ({ Authorization: `Bearer ${key}` });
      const get = async (key: string) => (await fetch(`${keyed.url}/api/learners/kim`, { headers: as(key) })).json() as Promise<Record<string, any>>;
      try {
        const turn = await postJson(`${keyed.url}/api/conversation/text`, { ...TURN, feedback: true, learner_id: 'kim' }, { headers: { 'Content-Type': 'application/json', ...as('key-one-0123456789') } });
        expect(turn.status).toBe(200);
        expect((await get('key-one-0123456789')).languages.es.turns).toBe(1);
        expect(await get('key-two-0123456789')).toEqual({ learner_id: 'kim', languages: {}, vocabulary: [], recent_corrections: [] });
        await fetch(`${keyed.url}/api/learners/kim`, { method: 'DELETE', headers: as('key-two-0123456789') });
        expect((await get('key-one-0123456789')).languages.es.turns).toBe(1);
        expect((await fetch(`${keyed.url}/api/learners/kim`)).status).toBe(401);
      } finally {
        await keyed.close();
      }
    });

    it('refuses a bad learner id and a bad export format with 400 saying what to fix', async () => {
      const badId = await getJson(`${gateway.url}/api/learners/${encodeURIComponent('ana/../x')}`);
      expect(badId.status).toBe(400);
      expect(badId.body.message).toMatch(/learner id.*1-64 characters/);
      const badFormat = await getJson(`${gateway.url}/api/learners/ana/vocabulary?format=xlsx`);
      expect(badFormat.status).toBe(400);
      expect(badFormat.body.message).toMatch(/format: must be 'json' or 'csv'/);
      const badTurn = await postJson(`${gateway.url}/api/conversation/text`, { ...TURN, learner_id: 'a b', feedback: 'maybe' });
      expect(badTurn.status).toBe(400);
      expect(badTurn.body.message).toMatch(/feedback: must be true or false/);
      expect(badTurn.body.message).toMatch(/learner_id: must be 1-64 characters/);
    });
  });
});
