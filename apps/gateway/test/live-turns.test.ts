import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { feedbackSchema, LANGUAGE_CODES, learnerProgressSchema } from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { samplesToMs, silencePcm, spokenPcm } from '@parley/models/fixtures/speech';
import { writeTinyWhisperModel } from '@parley/models/fixtures/whisper';
import { freePort, spawnService, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { startEdgeGateway } from './edge-support.js';
import { LiveSocket, upgradeRefusal, type ServerEvent } from './live-support.js';
import { getJson, startLlmService, startTestGateway, STT_SERVICE_MAIN, TTS_SERVICE_MAIN, type TestGateway } from './support.js';

const TERMINAL = ['complete', 'interrupted', 'error'];

/**
 * Live turns as full turns, on real engines and a real broker (Silero VAD + whisper-server,
 * node-llama-cpp on generated models, sherpa-onnx Piper): the socket's learner and feedback
 * settings reach every turn as on the HTTP routes, and a pause before any audio joins the two
 * utterances. Speech is espeak-ng trimmed by sox, streamed at real-time pace.
 */
describe('live turns: learner progress, feedback, and a pause joined before any audio', () => {
  let nats: TestNatsServer;
  let dir: string;
  let first: Int16Array;
  let second: Int16Array;
  const services: Record<string, SpawnedService> = {};

  /** Starts the llm-service on `model` and a gateway; resolves once every model is loaded. */
  async function startAnswering(model: string, overrides: Parameters<typeof startTestGateway>[1]): Promise<TestGateway> {
    services.llm = startLlmService(nats.url, model, await freePort());
    const gateway = await startTestGateway(nats.url, overrides);
    await waitUntil(async () => {
      const { models } = (await getJson(`${gateway.url}/api/health/models`)).body;
      return models.stt === 'loaded' && models.llm === 'loaded' && models.tts === 'loaded';
    }, 'every model to load', 90_000).catch((error) => {
      throw new Error(`${String(error)}\n${Object.values(services).map((s) => `--- ${s.name}\n${s.output()}`).join('\n')}`);
    });
    return gateway;
  }

  async function stopAnswering(gateway: TestGateway | undefined): Promise<void> {
    await gateway?.close();
    await services.llm?.stop();
    delete services.llm;
  }

  const liveUrl = (gateway: TestGateway, query: string) => `${gateway.url.replace('http', 'ws')}/api/conversation/live?${query}`;

  /** Streams one utterance (after a little silence), then silence until its turn has ended. */
  async function speakTurn(live: LiveSocket, pcm: Int16Array): Promise<ServerEvent[]> {
    await live.stream(silencePcm(500));
    const ended = live.events.filter((e) => TERMINAL.includes(e.event)).length;
    await live.stream(pcm);
    await live.silenceUntil(() => live.events.filter((e) => TERMINAL.includes(e.event)).length > ended);
    return live.of(live.events.filter((e) => TERMINAL.includes(e.event))[ended]!.data.turn_id as string);
  }

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-live-turns-'));
    first = spokenPcm('Hello there. I would like a cup of coffee, please.');
    second = spokenPcm('Where is the train station?');
    // Seed 1: a tiny whisper whose (nonsense) transcripts of short audio are not empty.
    await writeTinyWhisperModel(join(dir, 'whisper.bin'), { seed: 1 });
    await writeTinyPiperVoice(join(dir, 'voice'));
    services.stt = spawnService('stt-service', STT_SERVICE_MAIN, {
      NATS_URL: nats.url,
      STT_MODEL_PATH: join(dir, 'whisper.bin'),
      STT_HTTP_PORT: String(await freePort()),
    });
    services.tts = spawnService('tts-service', TTS_SERVICE_MAIN, {
      NATS_URL: nats.url,
      TTS_VOICES: JSON.stringify([
        { id: 'tiny-voice', languages: LANGUAGE_CODES, model: join(dir, 'voice', 'model.onnx'), tokens: join(dir, 'voice', 'tokens.txt') },
      ]),
      TTS_THREADS: '1',
      TTS_HTTP_PORT: String(await freePort()),
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(Object.values(services).map((s) => s.stop()));
    await nats?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('a pause before any audio has played', () => {
    let gateway: TestGateway;

    beforeAll(async () => {
      // Run-on and endless: the answer has no sentence end before its 2000-token limit, so no
      // sentence of it can be synthesized before then, however fast the machine is.
      const runOn = await writeTinyGguf(join(dir, 'run-on.gguf'), { endless: true, runOn: true });
      gateway = await startAnswering(runOn.path, { llmMaxTokens: 2000 });
    }, 120_000);

    afterAll(() => stopAnswering(gateway));

    it('joins the utterances: the cut turn is interrupted with heard "", the new turn transcribes both', async () => {
      const live = new LiveSocket(liveUrl(gateway, 'language=en&difficulty=beginner&scenario=greeting'));
      const ready = await live.ready();
      await live.stream(silencePcm(500));
      await live.stream(first);
      // The first utterance is transcribed and its (silent for now) answer is being written...
      await live.silenceUntil(() => live.events.some((e) => e.event === 'response_chunk'));
      const cut = live.events.find((e) => e.event === 'response_chunk')!.data.turn_id as string;
      // ...when the learner goes on speaking.
      const secondStart = live.sent;
      await live.stream(second);
      await live.silenceUntil(() => live.events.some((e) => e.event === 'transcription' && e.data.turn_id !== cut));

      const cutEvents = live.of(cut);
      const names = cutEvents.map((e) => e.event);
      expect(names.slice(0, 1)).toEqual(['speech_started']);
      expect(names).toContain('transcription');
      expect(names).not.toContain('audio');
      expect(names.filter((n) => [...TERMINAL, 'feedback'].includes(n))).toEqual(['interrupted']);
      expect(cutEvents.at(-1)).toEqual({ event: 'interrupted', data: { turn_id: cut, heard: '' } });

      const next = live.events.find((e) => e.event === 'speech_started' && e.data.turn_id !== cut)!;
      expect(live.events.indexOf(cutEvents.at(-1)!)).toBeLessThan(live.events.indexOf(next));
      expect(Math.abs(next.data.at_ms - samplesToMs(secondStart))).toBeLessThanOrEqual(150);
      // The new turn's transcription holds both utterances: the first one's words, then more.
      const firstWords = cutEvents.find((e) => e.event === 'transcription')!.data.text as string;
      const joined = live.of(next.data.turn_id).find((e) => e.event === 'transcription')!.data.text as string;
      expect(firstWords.length).toBeGreaterThan(0);
      expect(joined.startsWith(`${firstWords} `)).toBe(true);
      expect(joined.length).toBeGreaterThan(firstWords.length + 1);
      // The learner had only paused: nothing of the cut turn is stored.
      expect((await getJson(`${gateway.url}/api/conversation/session/${ready.data.session_id}`)).body.count).toBe(0);
      live.close();
    }, 90_000);
  });

  describe("the socket's learner, feedback and native language", () => {
    let gateway: TestGateway;
    const learner = async (id: string, headers: Record<string, string> = {}) =>
      (await fetch(`${gateway.url}/api/learners/${id}`, { headers })).json() as Promise<Record<string, any>>;

    beforeAll(async () => {
      const tiny = await writeTinyGguf(join(dir, 'tiny.gguf'));
      gateway = await startAnswering(tiny.path, {});
    }, 120_000);

    afterAll(() => stopAnswering(gateway));

    it('a spoken turn with feedback=1 has one schema-valid feedback event before complete, and counts toward learner_id', async () => {
      const live = new LiveSocket(liveUrl(gateway, 'language=es&difficulty=beginner&scenario=restaurant&learner_id=lia&feedback=1&native_language=de'));
      await live.ready();
      const events = await speakTurn(live, first);
      const names = events.map((e) => e.event);
      expect(names.at(-1)).toBe('complete');
      expect(names.filter((n) => n === 'feedback')).toHaveLength(1);
      expect(names.indexOf('feedback')).toBeGreaterThan(names.lastIndexOf('response_chunk'));
      const { turn_id: _turn, ...feedback } = events.find((e) => e.event === 'feedback')!.data;
      expect(feedbackSchema.parse(feedback)).toEqual(feedback);
      expect(events.at(-1)!.data).not.toHaveProperty('feedback_error');

      // Counted (before the answer's `complete`), with the feedback's words.
      const progress = learnerProgressSchema.parse(await learner('lia'));
      expect(progress.languages.es?.turns).toBe(1);
      const words = (feedback.vocabulary as Array<{ word: string }>).map((w) => w.word.trim().toLowerCase());
      expect(progress.vocabulary.map((w) => w.word.toLowerCase())).toEqual(expect.arrayContaining(words));
      live.close();
    }, 90_000);

    it('a settings message changes only the fields it names: another learner, no feedback, the same language', async () => {
      const live = new LiveSocket(liveUrl(gateway, 'language=es&difficulty=beginner&scenario=restaurant&learner_id=lia&feedback=1'));
      await live.ready();
      live.json({ type: 'settings', learner_id: 'lia-2', feedback: false });
      live.json({ type: 'text', message: 'Yo tener hambre' });
      const complete = await live.until('the typed turn to complete', (e) => e.event === 'complete');
      expect(live.of(complete.data.turn_id).map((e) => e.event)).not.toContain('feedback');
      expect(complete.data.language).toBe('es');
      expect((await learner('lia-2')).languages.es.turns).toBe(1);
      expect((await learner('lia')).languages.es.turns).toBe(1);
      live.close();
    }, 60_000);

    it('no feedback follows an interruption', async () => {
      const live = new LiveSocket(liveUrl(gateway, 'language=es&difficulty=beginner&scenario=restaurant&feedback=1'));
      await live.ready();
      live.json({ type: 'text', message: 'Yo tener hambre' });
      const start = await live.until('the answer to start', (e) => e.event === 'response_start');
      live.json({ type: 'interrupt' });
      const interrupted = await live.until('interrupted', (e) => e.event === 'interrupted');
      expect(interrupted.data.turn_id).toBe(start.data.turn_id);
      // Time for anything of the cut turn still in flight (its feedback is a generation of its own) to show.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const names = live.of(start.data.turn_id).map((e) => e.event);
      expect(names.at(-1)).toBe('interrupted');
      expect(names.filter((n) => [...TERMINAL, 'feedback'].includes(n)).at(-1)).toBe('interrupted');
      live.close();
    }, 60_000);

    it('refuses bad learner, feedback and native language settings as the HTTP routes do: 400 before the upgrade, or an error event', async () => {
      const bad = await upgradeRefusal(liveUrl(gateway, 'language=es&learner_id=a%20b&feedback=maybe&native_language=xx'));
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/learner_id: must be 1-64 characters/);
      expect(bad.body.message).toMatch(/feedback: must be true or false/);
      expect(bad.body.message).toMatch(/native_language: unknown language 'xx'/);

      const live = new LiveSocket(liveUrl(gateway, 'language=es'));
      await live.ready();
      live.json({ type: 'settings', learner_id: 'a b', feedback: 'maybe' });
      const error = await live.until('an error', (e) => e.event === 'error');
      expect(error.data).toEqual({ code: 'INVALID_REQUEST', error: expect.stringMatching(/learner_id: must be 1-64 characters/) });
      expect(error.data.error).toMatch(/feedback: must be true or false/);
      expect(live.closed).toBeUndefined();
      live.close();
    }, 30_000);

    it("with API keys, a live turn counts toward the learner in the key's own space", async () => {
      const keyed = await startEdgeGateway(nats.url, { apiKeys: ['key-one-0123456789', 'key-two-0123456789'] });
      const as = (key: string) => ({ Authorization: `Bearer ${key}` });
      try {
        const live = new LiveSocket(liveUrl(keyed, 'language=es&learner_id=kim&api_key=key-one-0123456789'));
        await live.ready();
        live.json({ type: 'text', message: 'Yo tener hambre' });
        await live.until('the typed turn to complete', (e) => e.event === 'complete');
        live.close();
        const get = async (key: string) => (await fetch(`${keyed.url}/api/learners/kim`, { headers: as(key) })).json() as Promise<Record<string, any>>;
        expect((await get('key-one-0123456789')).languages.es.turns).toBe(1);
        expect(await get('key-two-0123456789')).toEqual({ learner_id: 'kim', languages: {}, vocabulary: [], recent_corrections: [] });
      } finally {
        await keyed.close();
      }
    }, 60_000);
  });
});
