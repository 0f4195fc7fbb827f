import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LANGUAGE_CODES } from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { writeTinyWhisperModel } from '@parley/models/fixtures/whisper';
import { freePort, metricValue, spawnService, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import {
  getJson,
  makeSpeech,
  parseWav,
  postForm,
  postSse,
  readSse,
  startLlmService,
  startTestGateway,
  STT_SERVICE_MAIN,
  TTS_SERVICE_MAIN,
  type SseEventRecord,
  type TestGateway,
} from './support.js';

const FIELDS = { language: 'en', difficulty: 'beginner', scenario: 'greeting' };
const FORBIDDEN_AUDIO_KEYS = ['text', 'chunk', 'status', 'full_response', 'error'];

/**
 * The whole voice path on real engines and a real broker: whisper-server (stt), node-llama-cpp
 * (llm, an endless tiny model cut at max_tokens, so the answer has many sentences and takes a
 * while) and sherpa-onnx (tts), all on generated models.
 */
describe('voice conversation: speech in, streamed text and sentence-by-sentence speech out', () => {
  let nats: TestNatsServer;
  let dir: string;
  let speech: ReturnType<typeof makeSpeech>;
  let voiceSampleRate: number;
  const services: Record<string, SpawnedService> = {};
  const metricsUrls: Record<string, string> = {};
  let gateway: TestGateway;

  async function startStt() {
    services.stt = spawnService('stt-service', STT_SERVICE_MAIN, {
      NATS_URL: nats.url,
      STT_MODEL_PATH: join(dir, 'whisper.bin'),
      STT_THREADS: '1',
      STT_HTTP_PORT: String(await freePort()),
    });
  }

  async function startTts() {
    const port = await freePort();
    metricsUrls.tts = `http://127.0.0.1:${port}/metrics`;
    services.tts = spawnService('tts-service', TTS_SERVICE_MAIN, {
      NATS_URL: nats.url,
      TTS_VOICES: JSON.stringify([
        { id: 'tiny-voice', languages: LANGUAGE_CODES, model: join(dir, 'voice', 'model.onnx'), tokens: join(dir, 'voice', 'tokens.txt') },
      ]),
      TTS_THREADS: '1',
      TTS_HTTP_PORT: String(port),
    });
  }

  async function waitForModels(expected: Record<string, string>) {
    await waitUntil(async () => {
      const { models } = (await getJson(`${gateway.url}/api/health/models`)).body;
      return Object.entries(expected).every(([service, status]) => models[service] === status);
    }, `models ${JSON.stringify(expected)}`, 60_000).catch((error) => {
      const logs = Object.values(services).map((s) => `--- ${s.name}\n${s.output()}`).join('\n');
      throw new Error(`${String(error)}\n${logs}`);
    });
  }

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-voice-'));
    speech = makeSpeech(dir, 'Hello! My name is Anna. I would like to practise Spanish with you today.');
    const gguf = await writeTinyGguf(join(dir, 'endless.gguf'), { endless: true });
    await writeTinyWhisperModel(join(dir, 'whisper.bin'));
    voiceSampleRate = (await writeTinyPiperVoice(join(dir, 'voice'))).sampleRate;
    const llmPort = await freePort();
    metricsUrls.llm = `http://127.0.0.1:${llmPort}/metrics`;
    services.llm = startLlmService(nats.url, gguf.path, llmPort);
    await startStt();
    await startTts();
    gateway = await startTestGateway(nats.url, { llmMaxTokens: 120, uploadMaxBytes: 25 * 1024 * 1024 });
    await waitForModels({ stt: 'loaded', llm: 'loaded', tts: 'loaded' });
  }, 180_000);

  afterAll(async () => {
    await gateway?.close();
    await Promise.all(Object.values(services).map((s) => s.stop()));
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const speakStream = async (bytes: Uint8Array, name: string, fields: Record<string, string> = FIELDS) => {
    const res = await postForm(`${gateway.url}/api/conversation/speak-stream`, fields, { field: 'audio', name, bytes });
    return readSse(res, new AbortController());
  };

  function expectSpokenTurn(events: SseEventRecord[]) {
    const names = events.map((e) => e.event);
    expect(names.slice(0, 3)).toEqual(['start', 'transcription', 'response_start']);
    expect(names.at(-1)).toBe('complete');
    expect(names.filter((n) => n === 'complete' || n === 'error')).toHaveLength(1);
    const [start, transcription, responseStart] = events;
    expect(start!.data).toEqual({ status: 'transcribing', session_id: expect.any(String) });
    expect(transcription!.data).toEqual({ text: expect.stringMatching(/\S/), language: 'en' });
    expect(responseStart!.data).toEqual({ status: 'generating', session_id: start!.data.session_id });

    const chunks = events.filter((e) => e.event === 'response_chunk').map((e) => e.data.chunk as string);
    const complete = events.at(-1)!.data;
    expect(complete.full_response).toBe(chunks.join(''));
    expect(complete.audio_available).toBe(true);

    const audio = events.filter((e) => e.event === 'audio');
    expect(audio.length).toBeGreaterThan(2);
    audio.forEach((event, i) => {
      expect(event.data).toEqual({ seq: i, sentence: expect.stringMatching(/\S/), format: 'wav', sample_rate: voiceSampleRate, audio: expect.any(String) });
      for (const key of FORBIDDEN_AUDIO_KEYS) expect(event.data).not.toHaveProperty(key);
      const wav = parseWav(Buffer.from(event.data.audio as string, 'base64'));
      expect(wav).toEqual(expect.objectContaining({ channels: 1, sampleRate: voiceSampleRate, bitsPerSample: 16 }));
      expect(wav.samples).toBeGreaterThan(0);
    });
    // Every sentence spoken is part of the answer, in order.
    const spoken = audio.map((e) => e.data.sentence as string).join(' ');
    expect(spoken.replace(/\s+/g, ' ')).toBe((complete.full_response as string).trim().replace(/\s+/g, ' '));
    return { names, audio, complete };
  }

  it('speaks a WAV turn: start, transcription, response, audio interleaved with the text, one complete', async () => {
    const { events } = await speakStream(await readFile(speech.wav), 'speech.wav');
    const { names } = expectSpokenTurn(events);
    // The first sentence is spoken while later text is still streaming.
    expect(names.indexOf('audio')).toBeLessThan(names.lastIndexOf('response_chunk'));
  });

  it('accepts what browsers record (webm/opus), even when the file is named recording.wav', async () => {
    const { events } = await speakStream(await readFile(speech.webm), 'recording.wav');
    expectSpokenTurn(events);
  });

  it('accepts a stereo 44.1 kHz WAV', async () => {
    const { events } = await speakStream(await readFile(speech.stereo), 'stereo.wav');
    expectSpokenTurn(events);
  });

  it('stores the spoken turn in the session like a text turn', async () => {
    const { events } = await speakStream(await readFile(speech.wav), 'speech.wav');
    const sessionId = events[0]!.data.session_id as string;
    const transcribed = events[1]!.data.text as string;
    const { body } = await getJson(`${gateway.url}/api/conversation/session/${sessionId}`);
    expect(body.count).toBe(2);
    expect(body.messages[0]).toEqual({ role: 'user', content: transcribed, language: 'en' });
    expect(body.messages[1].content).toBe(events.at(-1)!.data.full_response);
  });

  it('speaks text turns sentence by sentence when asked, with longer sentences giving longer audio', async () => {
    const { events } = await postSse(`${gateway.url}/api/conversation/text-stream`, { message: 'Hola', ...FIELDS, tts: true });
    const audio = events.filter((e) => e.event === 'audio');
    expect(audio.length).toBeGreaterThan(2);
    expect(events.findIndex((e) => e.event === 'audio')).toBeLessThan(events.findIndex((e) => e.event === 'complete'));
    const bySentenceLength = audio
      .map((e) => ({ chars: (e.data.sentence as string).length, samples: parseWav(Buffer.from(e.data.audio as string, 'base64')).samples }))
      .sort((a, b) => a.chars - b.chars);
    const shortest = bySentenceLength[0]!;
    const longest = bySentenceLength.at(-1)!;
    if (longest.chars > shortest.chars) expect(longest.samples).toBeGreaterThan(shortest.samples);
  });

  it('stops generating and synthesizing when the client disconnects after the first sentence is spoken', async () => {
    const count = async (service: string, operation: string, outcome?: string) =>
      metricValue(await (await fetch(metricsUrls[service]!)).text(), 'parley_request_duration_seconds_count', {
        operation,
        ...(outcome ? { outcome } : {}),
      });
    // 2048 tokens of the endless model are about a hundred sentences and seconds of generation: the
    // client leaves at the first audio, long before the answer could have ended on its own, however
    // busy the machine (with the suite's 120 tokens the whole answer could be written by then).
    const long = await startTestGateway(nats.url, { llmMaxTokens: 2048 });
    try {
      const synthesesBefore = await count('tts', 'synthesize');
      const cancelsBefore = await count('llm', 'chat', 'cancelled');
      const { disconnected } = await postSse(`${long.url}/api/conversation/text-stream`, { message: 'Hola', ...FIELDS, tts: true }, {
        disconnectWhen: (e) => e.event === 'audio',
      });
      expect(disconnected).toBe(true);
      await waitUntil(async () => (await count('llm', 'chat', 'cancelled')) > cancelsBefore, 'the llm-service to stop the generation', 5000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const synthesesAfterLeaving = (await count('tts', 'synthesize')) - synthesesBefore;
      // The sentence or two under way when the client left; never the hundred the answer would have had.
      expect(synthesesAfterLeaving).toBeGreaterThanOrEqual(1);
      expect(synthesesAfterLeaving).toBeLessThan(10);
    } finally {
      await long.close();
    }
  });

  it('answers the blocking speak route with the transcription, the detected language and the answer', async () => {
    const res = await postForm(`${gateway.url}/api/conversation/speak`, FIELDS, { field: 'audio', name: 'a.wav', bytes: await readFile(speech.wav) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      response: expect.stringMatching(/\S/),
      language: 'en',
      detected_language: 'en',
      transcribed_text: expect.stringMatching(/\S/),
      session_id: expect.any(String),
    });
  });

  it('transcribes an upload, detecting its language with a probability, into timed segments', async () => {
    const res = await postForm(`${gateway.url}/api/conversation/transcribe`, {}, { field: 'audio', name: 'a.webm', bytes: await readFile(speech.webm) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body).toEqual({ text: expect.stringMatching(/\S/), language: 'en', language_probability: expect.any(Number), segments: expect.any(Array) });
    expect(body.language_probability).toBeGreaterThan(0);
    expect(body.language_probability).toBeLessThanOrEqual(1);
    expect(body.segments.length).toBeGreaterThan(0);
    for (const segment of body.segments) expect(segment).toEqual({ start: expect.any(Number), end: expect.any(Number), text: expect.any(String) });
  });

  it('transcribes a 5 MB upload (larger than a NATS message)', async () => {
    const wav = await readFile(speech.wav);
    const padded = padWav(wav, 5 * 1024 * 1024);
    const res = await postForm(`${gateway.url}/api/conversation/transcribe`, {}, { field: 'audio', name: 'long.wav', bytes: padded });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { text: string }).text).toMatch(/\S/);
  });

  it.each([
    ['a file that is not audio', new TextEncoder().encode('<html>definitely not audio</html>'), 415, /not an audio file/],
    ['an empty file', new Uint8Array(0), 400, /empty/],
  ])('refuses %s before starting the stream', async (_what, bytes, status, message) => {
    for (const route of ['speak', 'speak-stream', 'transcribe']) {
      const res = await postForm(`${gateway.url}/api/conversation/${route}`, FIELDS, { field: 'audio', name: 'x.wav', bytes });
      expect(res.status).toBe(status);
      expect(((await res.json()) as { message: string }).message).toMatch(message);
    }
  });

  it('refuses a request without a recording, and one with an unknown scenario, with 400', async () => {
    const missing = await postForm(`${gateway.url}/api/conversation/speak-stream`, FIELDS);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { message: string }).message).toMatch(/'audio'/);
    const wav = await readFile(speech.wav);
    const badScenario = await postForm(`${gateway.url}/api/conversation/speak`, { ...FIELDS, scenario: 'moon' }, { field: 'audio', name: 'a.wav', bytes: wav });
    expect(badScenario.status).toBe(400);
  });

  it('refuses a truncated WAV with a 4xx that says so', async () => {
    const wav = await readFile(speech.wav);
    const res = await postForm(`${gateway.url}/api/conversation/transcribe`, {}, { field: 'audio', name: 'cut.wav', bytes: wav.subarray(0, 30) });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it('ends a silent recording with NO_SPEECH (422 on the blocking route)', async () => {
    const silence = silentWav(2);
    const { events } = await speakStream(silence, 'silence.wav');
    expect(events.map((e) => e.event)).toEqual(['start', 'error']);
    expect(events[1]!.data).toEqual({ code: 'NO_SPEECH', error: expect.any(String), request_id: expect.any(String) });
    const res = await postForm(`${gateway.url}/api/conversation/speak`, FIELDS, { field: 'audio', name: 's.wav', bytes: silence });
    expect(res.status).toBe(422);
  });

  it('refuses an upload over the size limit with 413', async () => {
    const small = await startTestGateway(nats.url, { uploadMaxBytes: 64 * 1024 });
    try {
      const res = await postForm(`${small.url}/api/conversation/speak-stream`, FIELDS, { field: 'audio', name: 'big.wav', bytes: padWav(await readFile(speech.wav), 256 * 1024) });
      expect(res.status).toBe(413);
    } finally {
      await small.close();
    }
  });

  it('synthesizes form fields into a playable WAV at the voice sample rate, slower when speech_rate is higher', async () => {
    const normal = await postForm(`${gateway.url}/api/conversation/synthesize`, { text: 'Hola, ¿cómo estás?', language: 'es' });
    expect(normal.status).toBe(200);
    expect(normal.headers.get('content-type')).toBe('audio/wav');
    const normalWav = parseWav(new Uint8Array(await normal.arrayBuffer()));
    expect(normalWav).toEqual(expect.objectContaining({ channels: 1, bitsPerSample: 16, sampleRate: voiceSampleRate }));
    expect(normalWav.fileBytes).toBe(44 + normalWav.dataBytes);
    const slow = await fetch(`${gateway.url}/api/conversation/synthesize`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'Hola, ¿cómo estás?', language: 'es', speech_rate: 2 }),
    });
    expect(parseWav(new Uint8Array(await slow.arrayBuffer())).samples).toBeGreaterThan(normalWav.samples);
  });

  it.each([
    ['empty text', { text: '' }, /text/],
    ['whitespace', { text: '   \n ' }, /text.*empty/],
    ['speech_rate 0', { text: 'Hola', speech_rate: '0' }, /speech_rate/],
    ['speech_rate -1', { text: 'Hola', speech_rate: '-1' }, /speech_rate/],
    ['speech_rate NaN', { text: 'Hola', speech_rate: 'NaN' }, /speech_rate/],
    ['20,000 characters', { text: 'x'.repeat(20_000) }, /text.*at most/],
    ['an unknown language', { text: 'Hola', language: 'xx' }, /language/],
  ])('refuses synthesis of %s with 400, and the tts-service keeps serving', async (_what, fields, message) => {
    const res = await postForm(`${gateway.url}/api/conversation/synthesize`, fields as Record<string, string>);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(message);
    const next = await postForm(`${gateway.url}/api/conversation/synthesize`, { text: 'Still here.' });
    expect(next.status).toBe(200);
  });

  it('reports every model loaded and the system ready', async () => {
    expect((await getJson(`${gateway.url}/api/health/ready`)).body).toEqual({ status: 'ok', models: { stt: 'loaded', llm: 'loaded', tts: 'loaded' } });
  });

  it('still completes the text when the tts-service is down, saying audio was unavailable', async () => {
    await services.tts!.stop();
    try {
      const { events } = await speakStream(await readFile(speech.wav), 'speech.wav');
      const names = events.map((e) => e.event);
      expect(names).not.toContain('audio');
      expect(names.at(-1)).toBe('complete');
      const complete = events.at(-1)!.data;
      expect(complete.full_response).toMatch(/\S/);
      expect(complete.audio_available).toBe(false);
      expect(complete.audio_error).toMatch(/tts/);
    } finally {
      await startTts();
      await waitForModels({ tts: 'loaded' });
    }
  });

  it('ends a voice turn with an error event, and the blocking route with 503, when the stt-service is down', async () => {
    await services.stt!.stop();
    try {
      const { events } = await speakStream(await readFile(speech.wav), 'speech.wav');
      expect(events.map((e) => e.event)).toEqual(['start', 'error']);
      expect(events[1]!.data).toEqual({ code: 'SERVICE_UNAVAILABLE', error: expect.stringMatching(/stt/), request_id: expect.any(String) });
      const res = await postForm(`${gateway.url}/api/conversation/transcribe`, {}, { field: 'audio', name: 'a.wav', bytes: await readFile(speech.wav) });
      expect(res.status).toBe(503);
    } finally {
      await startStt();
      await waitForModels({ stt: 'loaded' });
    }
  });
});

/** A WAV with `seconds` of digital silence at 16 kHz mono. */
function silentWav(seconds: number): Buffer {
  return wavFromPcm(Buffer.alloc(seconds * 16000 * 2), 16000);
}

function wavFromPcm(pcm: Buffer, sampleRate: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}

/** The speech WAV (espeak-ng: 22.05 kHz mono 16-bit) followed by silence up to `bytes`. */
function padWav(wav: Buffer, bytes: number): Buffer {
  const sampleRate = wav.readUInt32LE(24);
  const dataStart = wav.indexOf('data', 12, 'ascii') + 8;
  const speech = wav.subarray(dataStart);
  const pcm = Buffer.alloc(Math.max(speech.length, bytes - 44));
  speech.copy(pcm);
  return wavFromPcm(pcm, sampleRate);
}
