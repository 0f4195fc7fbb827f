import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LANGUAGE_CODES, TTS_LIMITS } from '@parley/contracts';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { writeTinyWhisperModel } from '@parley/models/fixtures/whisper';
import {
  freePort,
  metricValue,
  spawnService,
  startNatsServer,
  waitUntil,
  type SpawnedService,
  type TestNatsServer,
} from '@parley/service-kit/testing';
import { recordReliabilityCase } from '../../../tooling/reliability.js';
import { waitForModel } from './system-support.js';
import {
  makeSpeech,
  postForm,
  replicaTakingRequest,
  startTestGateway,
  STT_SERVICE_MAIN,
  TTS_SERVICE_MAIN,
  type TestGateway,
} from './support.js';

interface Replica {
  service: SpawnedService;
  metricsUrl: string;
}

const DRAIN_LOG = /draining: 1 request\(s\) under way/;

/**
 * SIGTERM reaches an stt- or tts-service replica in the middle of a request (two replicas of
 * each, a gateway in front): the replica leaves its queue group at once, so a request made during
 * its drain is served by the other one, and finishes the request under way before it exits. The
 * replica is frozen (SIGSTOP) from the moment it takes the request until the signal is sent, so
 * the request is under way when SIGTERM arrives however fast the engine is. (The
 * grace period running out is shared code, DrainingNatsServer, tested with the llm-service in
 * graceful-shutdown.test.ts.)
 */
describe('an stt or tts replica shut down (SIGTERM) mid-request', () => {
  let nats: TestNatsServer;
  let dir: string;
  const replicas: Record<'stt' | 'tts', Replica[]> = { stt: [], tts: [] };
  let gateway: TestGateway;
  let longSpeech: Uint8Array;
  let shortSpeech: Uint8Array;

  const metric = async (replica: Replica, name: string, labels: Record<string, string>) =>
    metricValue(await (await fetch(replica.metricsUrl)).text(), name, labels);

  async function startReplica(kind: 'stt' | 'tts', index: number): Promise<Replica> {
    const port = await freePort();
    const env: Record<string, string> =
      kind === 'stt'
        ? { STT_MODEL_PATH: join(dir, 'whisper.bin'), STT_HTTP_PORT: String(port), STT_THREADS: '1' }
        : {
            TTS_VOICES: await readFile(join(dir, 'voices.json'), 'utf8'),
            TTS_HTTP_PORT: String(port),
            TTS_THREADS: '1',
          };
    const replica = {
      service: spawnService(`${kind}-service-${index}`, kind === 'stt' ? STT_SERVICE_MAIN : TTS_SERVICE_MAIN, {
        NATS_URL: nats.url,
        LOG_LEVEL: 'log',
        SHUTDOWN_GRACE_MS: '20000',
        ...env,
      }),
      metricsUrl: `http://127.0.0.1:${port}/metrics`,
    };
    replicas[kind].push(replica);
    await waitUntil(
      async () => (await metric(replica, 'parley_model_loaded', {})) === 1,
      `${kind} replica ${index} to load`,
      90_000,
    );
    return replica;
  }

  /**
   * The replica that takes the next `kind` request, frozen (SIGSTOP) the moment it has (the
   * others are frozen for an instant too, while it is found): SIGTERM then reaches it mid-request
   * however fast its engine is.
   */
  async function frozenTaker(kind: 'stt' | 'tts'): Promise<Replica> {
    await waitUntil(
      () => replicaTakingRequest(nats.monitorUrl!, kind),
      `a ${kind} replica to take the request`,
      20_000,
      1,
    );
    for (const r of replicas[kind]) r.service.child.kill('SIGSTOP');
    const pid = await replicaTakingRequest(nats.monitorUrl!, kind);
    const taker = replicas[kind].find((r) => r.service.child.pid === pid);
    for (const r of replicas[kind]) if (r !== taker) r.service.child.kill('SIGCONT');
    if (!taker) throw new Error(`no ${kind} replica holds the request (pid ${String(pid)})`);
    return taker;
  }

  /** SIGTERM to a frozen replica, then on: it begins to drain at once (its first act on waking). */
  async function terminate(replica: Replica): Promise<void> {
    replica.service.child.kill('SIGTERM');
    replica.service.child.kill('SIGCONT');
    await waitUntil(() => DRAIN_LOG.test(replica.service.output()), 'the replica to drain its request', 10_000, 5);
  }

  beforeAll(async () => {
    nats = await startNatsServer({ monitor: true });
    dir = await mkdtemp(join(tmpdir(), 'parley-service-shutdown-'));
    await writeTinyWhisperModel(join(dir, 'whisper.bin'));
    const voice = await writeTinyPiperVoice(join(dir, 'voice'));
    await writeFile(
      join(dir, 'voices.json'),
      JSON.stringify([{ id: 'tiny', languages: LANGUAGE_CODES, model: voice.model, tokens: voice.tokens }]),
    );
    // A long upload (a transcription that lasts) and a short one.
    longSpeech = await readFile(
      makeSpeech(dir, 'I would like to practise my Spanish with you today, if you have the time. '.repeat(12)).wav,
    );
    shortSpeech = await readFile(makeSpeech(await mkdtemp(join(dir, 'short-')), 'Hello there.').wav);
    await Promise.all([startReplica('stt', 1), startReplica('stt', 2), startReplica('tts', 1), startReplica('tts', 2)]);
    gateway = await startTestGateway(nats.url);
    await waitForModel(gateway.url, 'stt');
    await waitForModel(gateway.url, 'tts');
  }, 240_000);

  afterAll(async () => {
    await gateway?.close();
    await Promise.all([...replicas.stt, ...replicas.tts].map((r) => r.service.stop('SIGKILL')));
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('tts: the synthesis under way is finished while a new one is served by the other replica', async () => {
    const input = Array.from({ length: 200 }, (_, i) => `Sentence number ${i + 1} is here.`)
      .join(' ')
      .slice(0, TTS_LIMITS.maxTextChars);
    const long = fetch(`${gateway.url}/v1/audio/speech`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        model: 'tts-1',
        voice: 'alloy',
        input: input.slice(0, input.lastIndexOf('.') + 1),
        speed: 0.25,
        response_format: 'pcm',
      }),
    });
    const working = await frozenTaker('tts');
    const other = replicas.tts.find((r) => r !== working)!;
    const started = Date.now();
    await terminate(working);

    const okBefore = await metric(other, 'parley_request_duration_seconds_count', {
      operation: 'synthesize',
      outcome: 'ok',
    });
    const during = await fetch(`${gateway.url}/v1/audio/speech`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: 'During the drain.', response_format: 'wav' }),
    });
    expect(during.status).toBe(200);
    expect((await during.arrayBuffer()).byteLength).toBeGreaterThan(44);
    expect(
      await metric(other, 'parley_request_duration_seconds_count', { operation: 'synthesize', outcome: 'ok' }),
    ).toBe(okBefore + 1);

    // The long synthesis ends normally (a cut stream would make the read fail).
    const res = await long;
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
    // NestJS closes the app, then lets the signal end the process (as an unhandled SIGTERM would).
    await working.service.exited;
    expect(working.service.child.signalCode).toBe('SIGTERM');
    replicas.tts = replicas.tts.filter((r) => r !== working);
    recordReliabilityCase({
      id: 'fault.tts.sigterm-drains',
      kind: 'fault',
      target: 'POST /v1/audio/speech',
      input: 'SIGTERM the tts-service replica mid-synthesis (SHUTDOWN_GRACE_MS 20 s, 2 replicas)',
      outcome:
        'the synthesis under way streams to its end (drained); a synthesis sent meanwhile gets 200 from the other replica',
      ms: Date.now() - started,
    });
  }, 120_000);

  it('stt: the transcription under way is finished while a new one is served by the other replica', async () => {
    const long = postForm(
      `${gateway.url}/v1/audio/transcriptions`,
      { model: 'whisper-1', language: 'en' },
      { field: 'file', name: 'long.wav', bytes: longSpeech },
    );
    const working = await frozenTaker('stt');
    const other = replicas.stt.find((r) => r !== working)!;
    const started = Date.now();
    await terminate(working);

    const okBefore = await metric(other, 'parley_request_duration_seconds_count', {
      operation: 'transcribe',
      outcome: 'ok',
    });
    const during = await postForm(
      `${gateway.url}/v1/audio/transcriptions`,
      { model: 'whisper-1', language: 'en' },
      { field: 'file', name: 'short.wav', bytes: shortSpeech },
    );
    expect(during.status).toBe(200);
    expect(
      await metric(other, 'parley_request_duration_seconds_count', { operation: 'transcribe', outcome: 'ok' }),
    ).toBe(okBefore + 1);

    const res = await long;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { text: string }).text.length).toBeGreaterThan(0);
    // NestJS closes the app, then lets the signal end the process (as an unhandled SIGTERM would).
    await working.service.exited;
    expect(working.service.child.signalCode).toBe('SIGTERM');
    replicas.stt = replicas.stt.filter((r) => r !== working);
    recordReliabilityCase({
      id: 'fault.stt.sigterm-drains',
      kind: 'fault',
      target: 'POST /v1/audio/transcriptions',
      input: 'SIGTERM the stt-service replica mid-transcription (SHUTDOWN_GRACE_MS 20 s, 2 replicas)',
      outcome:
        'the transcription under way answers 200 with its text (drained); a transcription sent meanwhile gets 200 from the other replica',
      ms: Date.now() - started,
    });
  }, 120_000);
});
