import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { RealtimeClientEvent } from 'openai/resources/realtime/realtime';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { spokenPcm } from '@parley/models/fixtures/speech';
import { freePort, metricValue, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { startEdgeGateway, upgradeOutcome } from './edge-support.js';
import { selfSignedCertificate, type TestGateway } from './support.js';
import { startModelServices, startTlsTerminator, waitForModel } from './system-support.js';

/**
 * The terminator's certificate is a throwaway self-signed one, trusted by this test file only:
 * through the SDK's own `options` (given to `ws`), since jest gives a test file a copy of
 * process.env, so NODE_TLS_REJECT_UNAUTHORIZED set here would never reach node's tls module.
 */
const TRUST_TEST_CERTIFICATE = { rejectUnauthorized: false };

const KEY = 'realtime-key-0123456789';
const RATE = 24_000;
/** 40 ms of 24 kHz PCM16. */
const CHUNK_SAMPLES = 960;
const TOLERANCE_MS = 150;

type ServerEvent = { type: string; event_id: string; [field: string]: any };

/** A Realtime session through the official SDK: every server event in order, audio out at real-time pace. */
class RealtimeSession {
  readonly events: ServerEvent[] = [];
  readonly errors: Error[] = [];
  readonly rt: OpenAIRealtimeWS;
  closed?: { code: number };
  /** Samples appended so far (24 kHz). */
  sent = 0;

  constructor(client: OpenAI) {
    this.rt = new OpenAIRealtimeWS({ model: 'parley-realtime', options: TRUST_TEST_CERTIFICATE }, client);
    this.rt.on('event', (event) => this.events.push(event as ServerEvent));
    // Without an error listener the SDK turns each `error` event into an unhandled rejection.
    this.rt.on('error', (error) => this.errors.push(error));
    this.rt.socket.on('close', (code) => (this.closed = { code }));
  }

  async created(): Promise<ServerEvent> {
    return this.until('session.created');
  }

  send(event: object): void {
    this.rt.send(event as RealtimeClientEvent);
  }

  async until(type: string, match: (event: ServerEvent) => boolean = () => true, timeoutMs = 30_000): Promise<ServerEvent> {
    return waitUntil(() => this.events.find((e) => e.type === type && match(e)), `${type}; events so far: ${this.summary()}`, timeoutMs, 20) as Promise<ServerEvent>;
  }

  of(type: string): ServerEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  index(type: string): number {
    return this.events.findIndex((e) => e.type === type);
  }

  summary(): string {
    const names: string[] = [];
    for (const e of this.events) if (names.at(-1) !== e.type) names.push(e.type);
    return names.join(' ');
  }

  /** Appends 24 kHz PCM in 40 ms chunks; at real-time pace unless `fast`; `stopWhen` ends it early. */
  async stream(pcm: Int16Array, { stopWhen, fast = false }: { stopWhen?: () => boolean; fast?: boolean } = {}): Promise<void> {
    const started = Date.now();
    for (let at = 0; at < pcm.length; at += CHUNK_SAMPLES) {
      if (stopWhen?.()) return;
      const due = started + (at / RATE) * 1000;
      if (!fast && due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      const chunk = pcm.slice(at, at + CHUNK_SAMPLES);
      this.send({ type: 'input_audio_buffer.append', audio: Buffer.from(chunk.buffer).toString('base64') });
      this.sent += chunk.length;
    }
  }

  async silenceUntil(done: () => boolean, limitMs = 30_000): Promise<void> {
    await this.stream(new Int16Array((limitMs * RATE) / 1000), { stopWhen: done });
  }

  async close(): Promise<void> {
    this.rt.close();
    await waitUntil(() => this.closed, 'the socket to close', 5000, 10);
  }
}

const silence = (ms: number) => new Int16Array((ms * RATE) / 1000);
const pcmOf = (deltas: ServerEvent[]) => Buffer.concat(deltas.map((d) => Buffer.from(d.delta as string, 'base64')));

/**
 * Issue 11, item 2: `/v1/realtime` through the official SDK's `OpenAIRealtimeWS` (with the `ws`
 * package), configured with a base URL and a key, against the whole system on generated models,
 * behind a TLS terminator (the SDK only connects over wss://). Speech is espeak-ng at 24 kHz
 * (sox), appended in 40 ms chunks at real-time pace.
 */
describe('OpenAI Realtime through the official SDK', () => {
  let nats: TestNatsServer;
  let dir: string;
  let services: SpawnedService[] = [];
  /** Short answers (24 tokens). */
  let gateway: TestGateway;
  /** Long answers (the endless model up to 2000 tokens), to cancel mid-answer. */
  let longGateway: TestGateway;
  const terminators: Array<{ port: number; close(): Promise<void> }> = [];
  let client: OpenAI;
  let longClient: OpenAI;
  let realtimeUrl: string;
  let llmMetricsUrl: string;
  let speech: Int16Array;

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-realtime-'));
    speech = spokenPcm('Hello there. I would like a cup of coffee, please.', 'en', RATE);
    const llmHttpPort = await freePort();
    llmMetricsUrl = `http://127.0.0.1:${llmHttpPort}/metrics`;
    services = await startModelServices(nats.url, dir, { endless: true, llmHttpPort });
    const edge = { apiKeys: [KEY], maxStreamsPerClient: 0 };
    gateway = await startEdgeGateway(nats.url, edge, { llmMaxTokens: 24 });
    longGateway = await startEdgeGateway(nats.url, edge, { llmMaxTokens: 2000 });
    const tls = selfSignedCertificate(dir);
    for (const g of [gateway, longGateway]) terminators.push(await startTlsTerminator(Number(new URL(g.url).port), tls));
    client = new OpenAI({ baseURL: `https://127.0.0.1:${terminators[0]!.port}/v1`, apiKey: KEY });
    longClient = new OpenAI({ baseURL: `https://127.0.0.1:${terminators[1]!.port}/v1`, apiKey: KEY });
    realtimeUrl = `wss://127.0.0.1:${terminators[0]!.port}/v1/realtime?model=parley`;
    for (const role of ['llm', 'stt', 'tts'] as const) await waitForModel(gateway.url, role, services);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(terminators.map((t) => t.close()));
    await longGateway?.close();
    await gateway?.close();
    await Promise.all(services.map((s) => s.stop()));
    await nats?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Generations the llm-service counts as cancelled. */
  async function cancelledGenerations(): Promise<number> {
    return metricValue(await (await fetch(llmMetricsUrl)).text(), 'parley_request_duration_seconds_count', { operation: 'chat', outcome: 'cancelled' });
  }

  /** A session on the long-answer gateway that asked for an answer (a user message, then response.create). */
  async function askForALongAnswer(): Promise<RealtimeSession> {
    const session = new RealtimeSession(longClient);
    await session.created();
    session.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Tell me a long story.' }] } });
    await session.until('conversation.item.done');
    session.send({ type: 'response.create' });
    return session;
  }

  it('hears a spoken WAV with server VAD and answers with transcript and audio deltas, then response.done', async () => {
    const session = new RealtimeSession(client);
    const created = await session.created();
    expect(created.session).toEqual(expect.objectContaining({ type: 'realtime', audio: expect.objectContaining({ input: expect.objectContaining({ format: { type: 'audio/pcm', rate: RATE } }) }) }));
    session.send({
      type: 'session.update',
      event_id: 'evt_update_1',
      session: {
        type: 'realtime',
        instructions: 'Be brief.',
        audio: {
          input: { format: { type: 'audio/pcm', rate: RATE }, transcription: { model: 'whisper-1', language: 'en' }, turn_detection: { type: 'server_vad', threshold: 0.5, silence_duration_ms: 500, prefix_padding_ms: 300 } },
          output: { format: { type: 'audio/pcm', rate: RATE }, voice: 'alloy' },
        },
      },
    });
    const updated = await session.until('session.updated');
    expect(updated.session.instructions).toBe('Be brief.');
    expect(updated.session.audio.input.turn_detection).toEqual(expect.objectContaining({ type: 'server_vad', threshold: 0.5, silence_duration_ms: 500 }));

    await session.stream(silence(800));
    await session.stream(speech);
    await session.silenceUntil(() => session.events.some((e) => e.type === 'response.done'));

    const started = await session.until('input_audio_buffer.speech_started');
    expect(Math.abs(started.audio_start_ms - 800)).toBeLessThanOrEqual(TOLERANCE_MS);
    const stopped = await session.until('input_audio_buffer.speech_stopped');
    expect(Math.abs(stopped.audio_end_ms - (800 + (speech.length / RATE) * 1000))).toBeLessThanOrEqual(TOLERANCE_MS);
    const committed = await session.until('input_audio_buffer.committed');
    const transcribed = await session.until('conversation.item.input_audio_transcription.completed');
    expect(committed.item_id).toBe(started.item_id);
    expect(transcribed.item_id).toBe(started.item_id);
    expect(transcribed.transcript).toEqual(expect.any(String));
    expect(transcribed.transcript.length).toBeGreaterThan(0);

    const done = await session.until('response.done');
    expect(done.response.status).toBe('completed');
    const created2 = session.of('response.created');
    expect(created2).toHaveLength(1);
    expect(created2[0]!.response.id).toBe(done.response.id);
    const order = ['input_audio_buffer.speech_started', 'input_audio_buffer.speech_stopped', 'input_audio_buffer.committed', 'conversation.item.input_audio_transcription.completed', 'response.created', 'response.output_audio_transcript.delta', 'response.output_audio.delta', 'response.done'];
    const positions = order.map((type) => session.index(type));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);

    const transcript = session.of('response.output_audio_transcript.delta').map((d) => d.delta as string).join('');
    expect(transcript.length).toBeGreaterThan(0);
    expect(done.response.output[0].content[0].transcript).toBe(transcript);
    expect((await session.until('response.output_audio_transcript.done')).transcript).toBe(transcript);
    const audio = pcmOf(session.of('response.output_audio.delta'));
    expect(audio.byteLength % 2).toBe(0);
    expect(audio.byteLength).toBeGreaterThan(RATE * 2 * 0.1); // more than 100 ms of 24 kHz speech
    expect(new Int16Array(audio.buffer, audio.byteOffset, audio.byteLength / 2).some((sample) => Math.abs(sample) > 100)).toBe(true);
    for (const delta of session.of('response.output_audio.delta')) expect(delta).toEqual(expect.objectContaining({ response_id: done.response.id, item_id: done.response.output[0].id }));
    expect(session.events.every((e) => typeof e.event_id === 'string' && e.event_id.length > 0 && typeof e.type === 'string')).toBe(true);
    expect(session.errors).toEqual([]);
    await session.close();
  }, 90_000);

  it('waits for commit and response.create with turn_detection null (the beta session shape)', async () => {
    const session = new RealtimeSession(client);
    await session.created();
    session.send({
      type: 'session.update',
      session: { modalities: ['audio', 'text'], instructions: 'Be brief.', voice: 'alloy', input_audio_format: 'pcm16', input_audio_transcription: { model: 'whisper-1' }, turn_detection: null },
    });
    const updated = await session.until('session.updated');
    expect(updated.session.audio.input.turn_detection).toBeNull();
    // No detection: the pace does not matter, and silence around the speech is part of the utterance.
    await session.stream(silence(300), { fast: true });
    await session.stream(speech, { fast: true });
    session.send({ type: 'input_audio_buffer.commit', event_id: 'evt_commit' });
    const committed = await session.until('input_audio_buffer.committed');
    const transcribed = await session.until('conversation.item.input_audio_transcription.completed');
    expect(transcribed.item_id).toBe(committed.item_id);
    expect(transcribed.transcript.length).toBeGreaterThan(0);
    expect(session.of('input_audio_buffer.speech_started')).toEqual([]);
    // Nothing answers before response.create.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(session.of('response.created')).toEqual([]);
    session.send({ type: 'response.create' });
    const done = await session.until('response.done');
    expect(done.response.status).toBe('completed');
    expect(session.of('response.output_audio.delta').length).toBeGreaterThan(0);
    // Commit and response.create at once: the answer waits for the transcript, then comes.
    await session.stream(speech, { fast: true });
    session.send({ type: 'input_audio_buffer.commit' });
    session.send({ type: 'response.create', event_id: 'evt_create_at_once' });
    const second = await session.until('response.done', (e) => e.response.id !== done.response.id);
    expect(second.response.status).toBe('completed');
    const transcripts = session.of('conversation.item.input_audio_transcription.completed');
    expect(transcripts).toHaveLength(2);
    expect(session.events.indexOf(transcripts[1]!)).toBeLessThan(session.events.findIndex((e) => e.type === 'response.created' && e.response.id === second.response.id));
    expect(session.events.some((e) => e.type === 'error' && e.error.event_id === 'evt_create_at_once')).toBe(false);
    // A commit with nothing appended since: an error naming the commit, the socket stays open.
    session.send({ type: 'input_audio_buffer.commit', event_id: 'evt_empty_commit' });
    const empty = await session.until('error', (e) => e.error.event_id === 'evt_empty_commit');
    expect(empty.error.code).toBe('input_audio_buffer_commit_empty');
    expect(session.closed).toBeUndefined();
    await session.close();
  }, 60_000);

  it('cancels the response in progress when the user speaks again (turn_detected), then hears the new utterance', async () => {
    const session = new RealtimeSession(longClient);
    await session.created();
    await session.stream(silence(500));
    await session.stream(speech);
    await session.silenceUntil(() => session.events.some((e) => e.type === 'response.output_audio.delta'));
    const answering = await session.until('response.created');
    await session.stream(speech);
    const cancelled = await session.until('response.done');
    expect(cancelled.response).toEqual(expect.objectContaining({ id: answering.response.id, status: 'cancelled', status_details: { type: 'cancelled', reason: 'turn_detected' } }));
    const starts = session.of('input_audio_buffer.speech_started');
    expect(starts).toHaveLength(2);
    expect(session.events.indexOf(cancelled)).toBeLessThan(session.events.indexOf(starts[1]!));
    await session.silenceUntil(() => session.of('conversation.item.input_audio_transcription.completed').length === 2);
    expect(session.of('conversation.item.input_audio_transcription.completed')[1]!.item_id).toBe(starts[1]!.item_id);
    await session.close();
  }, 90_000);

  it('ends a cancelled answer with response.done status cancelled, and the llm-service stops generating', async () => {
    const before = await cancelledGenerations();
    const session = await askForALongAnswer();
    const created = await session.until('response.created');
    await session.until('response.output_audio.delta');
    session.send({ type: 'response.cancel' });
    const done = await session.until('response.done');
    expect(done.response).toEqual(expect.objectContaining({ id: created.response.id, status: 'cancelled', status_details: { type: 'cancelled', reason: 'client_cancelled' } }));
    expect(session.of('response.done')).toHaveLength(1);
    await waitUntil(async () => (await cancelledGenerations()) > before, 'the llm-service to stop the generation', 5000);
    // Nothing is left to cancel: an error, and the socket stays open.
    session.send({ type: 'response.cancel', event_id: 'evt_cancel_again' });
    expect((await session.until('error', (e) => e.error.event_id === 'evt_cancel_again')).error.code).toBe('response_cancel_not_active');
    await session.close();
  }, 60_000);

  it('cancels the answer in progress when the socket closes', async () => {
    const before = await cancelledGenerations();
    const session = await askForALongAnswer();
    await session.until('response.output_audio_transcript.delta');
    await session.close();
    await waitUntil(async () => (await cancelledGenerations()) > before, 'the llm-service to stop the generation', 5000);
  }, 60_000);

  it('answers bad input with an error event naming the client event, and stays open', async () => {
    const session = new RealtimeSession(client);
    await session.created();
    session.send({ type: 'conversation.item.truncate', event_id: 'evt_unknown', item_id: 'x', content_index: 0, audio_end_ms: 0 });
    const unknown = await session.until('error', (e) => e.error.event_id === 'evt_unknown');
    expect(unknown.error).toEqual({ type: 'invalid_request_error', code: 'unknown_event_type', param: 'type', event_id: 'evt_unknown', message: expect.stringMatching(/unsupported event type "conversation.item.truncate".*session.update/) });
    session.send({ type: 'input_audio_buffer.append', event_id: 'evt_base64', audio: 'not base64!' });
    expect((await session.until('error', (e) => e.error.event_id === 'evt_base64')).error).toEqual(expect.objectContaining({ param: 'audio', message: expect.stringMatching(/base64/) }));
    session.send({ type: 'input_audio_buffer.append', event_id: 'evt_odd', audio: Buffer.from([1, 2, 3]).toString('base64') });
    expect((await session.until('error', (e) => e.error.event_id === 'evt_odd')).error.message).toMatch(/even number of bytes/);
    session.send({ type: 'session.update', event_id: 'evt_format', session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcmu' } } } } });
    expect((await session.until('error', (e) => e.error.event_id === 'evt_format')).error.message).toMatch(/audio\/pcm/);
    session.send({ type: 'session.update', event_id: 'evt_voice', session: { type: 'realtime', audio: { output: { voice: 'no-such-voice' } } } });
    expect((await session.until('error', (e) => e.error.event_id === 'evt_voice')).error).toEqual(expect.objectContaining({ param: 'session.audio.output.voice', message: expect.stringMatching(/unknown voice 'no-such-voice'.*tiny/) }));
    session.send({ type: 'response.create', event_id: 'evt_nothing' });
    expect((await session.until('error', (e) => e.error.event_id === 'evt_nothing')).error.code).toBe('response_create_empty');
    // Still open and working.
    session.send({ type: 'session.update', event_id: 'evt_ok', session: { type: 'realtime', instructions: 'Still here.' } });
    expect((await session.until('session.updated')).session.instructions).toBe('Still here.');
    expect(session.closed).toBeUndefined();
    // Over 1 MiB: closed with 1009.
    session.rt.socket.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: 'A'.repeat(1100 * 1024) }));
    await waitUntil(() => session.closed, 'the socket to be closed', 5000, 10);
    expect(session.closed!.code).toBe(1009);
  }, 30_000);

  it('refuses a wrong or missing key before the upgrade, in OpenAI error shape; takes the key as header, ?api_key= or subprotocol', async () => {
    const refused = new RealtimeSession(new OpenAI({ baseURL: client.baseURL, apiKey: 'not-the-key' }));
    await waitUntil(() => refused.errors.length > 0, 'the SDK to report the refusal', 5000, 10);
    expect(refused.errors[0]!.message).toMatch(/401/);
    expect(await upgradeOutcome(realtimeUrl, { headers: { Authorization: 'Bearer not-the-key' }, ...TRUST_TEST_CERTIFICATE })).toEqual({
      status: 401,
      headers: expect.anything(),
      body: { error: { type: 'authentication_error', code: 'invalid_api_key', param: null, message: expect.stringMatching(/not valid/) } },
    });
    expect(await upgradeOutcome(realtimeUrl, TRUST_TEST_CERTIFICATE)).toEqual(expect.objectContaining({ status: 401, body: { error: expect.objectContaining({ code: 'invalid_api_key' }) } }));
    expect(await upgradeOutcome(`${realtimeUrl}&api_key=${KEY}`, TRUST_TEST_CERTIFICATE)).toBe('upgraded');
    expect(await upgradeOutcome(realtimeUrl, { protocols: ['realtime', `openai-insecure-api-key.${KEY}`], ...TRUST_TEST_CERTIFICATE })).toBe('upgraded');
    expect(await upgradeOutcome(`${realtimeUrl}&api_key=${KEY}`, { headers: { Origin: 'https://evil.example' }, ...TRUST_TEST_CERTIFICATE })).toEqual(
      expect.objectContaining({ status: 403, body: { error: expect.objectContaining({ type: 'invalid_request_error', code: 'forbidden' }) } }),
    );
  }, 30_000);
});
