import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LANGUAGE_CODES } from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { concatPcm, pcmFrames, samplesToMs, silencePcm, spokenPcm } from '@parley/models/fixtures/speech';
import { writeTinyWhisperModel } from '@parley/models/fixtures/whisper';
import { freePort, metricValue, spawnService, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import WebSocket from 'ws';
import { getJson, startLlmService, startTestGateway, STT_SERVICE_MAIN, TTS_SERVICE_MAIN, type TestGateway } from './support.js';

const TOLERANCE_MS = 150;
type ServerEvent = { event: string; data: Record<string, any> };

/** A live socket as a client uses it: events in order, audio out at real-time pace. */
class LiveSocket {
  readonly events: ServerEvent[] = [];
  closed?: { code: number; reason: string };
  /** Samples sent so far (the connection's clock). */
  sent = 0;
  private readonly socket: WebSocket;
  private readonly opened: Promise<void>;

  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('message', (data: Buffer) => this.events.push(JSON.parse(data.toString()) as ServerEvent));
    this.socket.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  async ready(): Promise<ServerEvent> {
    await this.opened;
    return this.until('ready', (e) => e.event === 'ready');
  }

  async until(what: string, match: (event: ServerEvent) => boolean, timeoutMs = 30_000): Promise<ServerEvent> {
    return waitUntil(() => this.events.find(match), `${what}; events so far: ${this.summary()}`, timeoutMs, 20) as Promise<ServerEvent>;
  }

  of(turnId: string): ServerEvent[] {
    return this.events.filter((e) => e.data.turn_id === turnId);
  }

  summary(): string {
    return this.events.map((e) => `${e.event}${e.data.turn_id ? `(${e.data.turn_id})` : ''}`).join(' ');
  }

  json(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Streams PCM in 40 ms frames at real-time pace; `stopWhen` ends it early (checked every frame). */
  async stream(pcm: Int16Array, stopWhen?: () => boolean): Promise<void> {
    const started = Date.now();
    for (const frame of pcmFrames(pcm, 40)) {
      if (stopWhen?.()) return;
      const due = started + samplesToMs(frame.offset);
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      this.socket.send(frame.bytes);
      this.sent += frame.bytes.byteLength / 2;
    }
  }

  /** Silence at real-time pace until `done` (or the limit). */
  async silenceUntil(done: () => boolean, limitMs = 30_000): Promise<void> {
    await this.stream(silencePcm(limitMs), done);
  }

  binary(bytes: Uint8Array): void {
    this.socket.send(bytes);
  }

  close(): void {
    this.socket.close();
  }
}

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

  async function metric(service: string, name: string, labels: Record<string, string> = {}) {
    return metricValue(await (await fetch(metricsUrls[service]!)).text(), name, labels);
  }

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-live-'));
    first = spokenPcm('Hello there. I would like a cup of coffee, please.');
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
    liveUrl = `${gateway.url.replace('http', 'ws')}/api/conversation/live?language=en&difficulty=beginner&scenario=greeting`;
    await waitUntil(async () => {
      const { models } = (await getJson(`${gateway.url}/api/health/models`)).body;
      return models.stt === 'loaded' && models.llm === 'loaded' && models.tts === 'loaded';
    }, 'every model to load', 90_000).catch((error) => {
      throw new Error(`${String(error)}\n${Object.values(services).map((s) => `--- ${s.name}\n${s.output()}`).join('\n')}`);
    });
  }, 180_000);

  afterAll(async () => {
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
});
