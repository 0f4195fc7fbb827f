/**
 * The built stt-service against a private nats-server and the REAL whisper-server (built by the
 * project's script into .cache) on the generated tiny whisper model. Uploads go through the
 * JetStream object store like the gateway's; replies are read with service-kit's streamRequest.
 * Needs nats-server, espeak-ng, ffmpeg, cmake + a C++ compiler (first build). Asserts on shape and
 * behaviour, never on words (the tiny model's words are nonsense).
 */
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import type { ObjectStore } from '@nats-io/obj';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  AUDIO_BUCKET,
  ParleyError,
  serviceHealthSchema,
  SUBJECTS,
  transcriptionSchema,
  type ServiceHealth,
  type Transcription,
} from '@parley/contracts';
import { writeTinyWhisperModel } from '@parley/models/fixtures/whisper';
import { openObjectStore, streamRequest } from '@parley/service-kit';
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
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';

const STT_MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const BUILD_SCRIPT = fileURLToPath(new URL('../scripts/build-whisper-server.mjs', import.meta.url));

function run(cmd: string, args: string[]): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.error) throw new Error(`${cmd} could not run (${res.error.message}); install it (apt-get install ${cmd})`);
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}:\n${res.stderr}`);
  return res.stdout;
}

const ffmpeg = (...args: string[]) => run('ffmpeg', ['-loglevel', 'error', '-y', ...args]);

describe('stt-service: transcription through NATS and the real whisper-server', () => {
  let nats: TestNatsServer;
  let dir: string;
  let modelPath: string;
  let stt: SpawnedService;
  let httpPort: number;
  let client: ClientProxy;
  let nc: NatsConnection;
  let bucket: ObjectStore;
  const files: Record<string, Buffer> = {};

  async function upload(bytes: Uint8Array): Promise<string> {
    const name = randomUUID().replaceAll('-', '');
    await bucket.putBlob({ name }, bytes);
    return name;
  }

  /** Uploads, calls the subject like the gateway does, and returns every reply. */
  async function transcribeAll(bytes: Uint8Array, language = 'auto', candidates?: string[]): Promise<{ replies: Transcription[]; object: string }> {
    const object = await upload(bytes);
    const request = { request_id: randomUUID().replaceAll('-', ''), audio_object: object, language, candidate_languages: candidates };
    const replies = await lastValueFrom(
      streamRequest(client, request, {
        service: 'stt',
        subject: SUBJECTS.stt.transcribe,
        parse: (reply) => transcriptionSchema.parse(reply),
        firstReplyTimeoutMs: 90_000,
        idleTimeoutMs: 90_000,
      }).pipe(toArray()),
    );
    return { replies, object };
  }

  async function transcribe(bytes: Uint8Array, language = 'auto', candidates?: string[]): Promise<Transcription> {
    const { replies, object } = await transcribeAll(bytes, language, candidates);
    expect(replies).toHaveLength(1);
    expect(await isGone(object)).toBe(true); // deleted after use
    return replies[0]!;
  }

  /** An object store delete leaves a `deleted` marker behind. */
  async function isGone(object: string): Promise<boolean> {
    const info = await bucket.info(object);
    return info === null || info.deleted;
  }

  async function transcribeError(bytes: Uint8Array): Promise<ParleyError> {
    const error = await transcribeAll(bytes).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeDefined();
    // Every upload so far has been consumed (or discarded) by the service.
    await waitUntil(async () => (await bucket.list()).every((o) => o.deleted), 'the refused upload to be deleted', 5000);
    expect(error).toBeInstanceOf(ParleyError);
    return error as ParleyError;
  }

  const health = async (): Promise<ServiceHealth> =>
    serviceHealthSchema.parse(await firstValueFrom(client.send(SUBJECTS.stt.health, {})));
  const metrics = async () => (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const whisperPids = () =>
    spawnSync('pgrep', ['-f', '--', `--model ${modelPath}`], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean)
      .map(Number);

  function expectTranscription(t: Transcription, durationMs: number) {
    expect(t.text.trim().length).toBeGreaterThan(0);
    expect(t.language).toMatch(/^[a-z]{2,3}$/);
    expect(Math.abs(t.duration_ms - durationMs)).toBeLessThan(150);
    expect(t.segments.length).toBeGreaterThanOrEqual(1);
    for (const s of t.segments) {
      expect(s.start).toBeGreaterThanOrEqual(0);
      expect(s.end).toBeGreaterThanOrEqual(s.start);
      expect(s.end).toBeLessThanOrEqual(t.duration_ms / 1000 + 0.001);
      expect(s.text.trim().length).toBeGreaterThan(0);
    }
    expect(t.replica).toMatch(/:\d+$/);
  }

  beforeAll(async () => {
    run(process.execPath, [BUILD_SCRIPT]); // builds once into .cache (minutes cold), else instant
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-stt-'));
    modelPath = (await writeTinyWhisperModel(join(dir, 'tiny-whisper.bin'), { seed: 1 })).path;

    const raw = join(dir, 'raw.wav');
    run('espeak-ng', ['-w', raw, 'Hello, how are you today? I would like a cup of coffee, please.']);
    ffmpeg('-i', raw, '-ar', '16000', '-ac', '1', '-c:a', 'pcm_s16le', join(dir, 'speech.wav'));
    ffmpeg('-i', raw, '-c:a', 'libopus', join(dir, 'speech.webm'));
    ffmpeg('-i', raw, '-c:a', 'libmp3lame', join(dir, 'speech.mp3'));
    ffmpeg('-i', raw, '-c:a', 'aac', join(dir, 'speech.m4a'));
    ffmpeg('-i', raw, '-ar', '44100', '-ac', '2', '-c:a', 'pcm_s16le', join(dir, 'stereo44k.wav'));
    ffmpeg('-i', raw, '-ar', '48000', '-c:a', 'pcm_s24le', join(dir, 's24.wav'));
    ffmpeg('-i', raw, '-ar', '32000', '-c:a', 'pcm_f32le', join(dir, 'f32.wav'));
    ffmpeg('-i', raw, '-c:a', 'pcm_f64le', join(dir, 'f64.wav'));
    // Long uploads: speech looped, 48 kHz stereo 16-bit = 192 kB/s.
    ffmpeg('-stream_loop', '-1', '-i', raw, '-t', '28', '-ar', '48000', '-ac', '2', '-c:a', 'pcm_s16le', join(dir, 'five-mb.wav'));
    ffmpeg('-stream_loop', '-1', '-i', raw, '-t', '110', '-ar', '48000', '-ac', '2', '-c:a', 'pcm_s16le', join(dir, 'twenty-mb.wav'));
    ffmpeg('-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono', '-t', '2', '-c:a', 'pcm_s16le', join(dir, 'silence.wav'));
    ffmpeg('-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-t', '200', '-c:a', 'pcm_u8', join(dir, 'too-long.wav'));
    for (const name of ['speech.wav', 'speech.webm', 'speech.mp3', 'speech.m4a', 'stereo44k.wav', 's24.wav', 'f32.wav', 'f64.wav', 'five-mb.wav', 'twenty-mb.wav', 'silence.wav', 'too-long.wav']) {
      files[name] = await readFile(join(dir, name));
    }

    httpPort = await freePort();
    stt = spawnService('stt-service', STT_MAIN, {
      NATS_URL: nats.url,
      // The test reads the start-up log (one whisper-server start), whatever level the run uses.
      LOG_LEVEL: 'log',
      STT_MODEL_PATH: modelPath,
      STT_HTTP_PORT: String(httpPort),
      STT_MAX_AUDIO_SECONDS: '150',
    });
    client = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: nats.url } }) as ClientProxy;
    await client.connect();
    nc = await connect({ servers: nats.url });
    bucket = await openObjectStore(nc, AUDIO_BUCKET);
    await waitUntil(async () => (await health()).status === 'loaded', 'the stt model to load', 60_000).catch((error) => {
      throw new Error(`${String(error)}\nstt-service output:\n${stt.output()}`);
    });
  }, 20 * 60_000);

  afterAll(async () => {
    await client?.close();
    await nc?.close();
    await stt?.stop();
    // The service stops its whisper-server children on SIGTERM.
    expect(whisperPids()).toEqual([]);
    await nats?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('warms its whisper-server up with one tiny transcription before it says the model is loaded', async () => {
    const log = stt.output();
    const warmed = log.search(/whisper-server #0 warmed up: a first transcription of 0\.5 s took \d+ ms/);
    const loaded = log.search(/model tiny-whisper\.bin loaded in \d+ ms/);
    expect(warmed).toBeGreaterThan(-1);
    expect(loaded).toBeGreaterThan(warmed);
    // The warm-up is no learner's request: the request metrics do not count it.
    expect(metricValue(await metrics(), 'parley_request_duration_seconds_count', { operation: 'transcribe', outcome: 'ok' })).toBe(0);
  });

  it('transcribes espeak-ng speech (WAV) to text, a language code and segments within the audio', async () => {
    const t = await transcribe(files['speech.wav']!);
    expectTranscription(t, t.duration_ms);
    expect(t.duration_ms).toBeGreaterThan(1500);
    expect(t.language).toBe('en'); // the fixture model "detects" en
    expect(t.language_probability).toBeGreaterThan(0);
    expect(t.language_probability).toBeLessThanOrEqual(1);
  });

  it('uses a language hint as given (no detection, probability null)', async () => {
    const t = await transcribe(files['speech.wav']!, 'es');
    expect(t.language).toBe('es');
    expect(t.language_probability).toBeNull();
    expect(t.text.trim().length).toBeGreaterThan(0);
  });

  it('transcribes in the likeliest of the candidate languages, again in it when whisper chose another', async () => {
    // English speech: English wins between Spanish and English, with its detected probability.
    const between = await transcribe(files['speech.wav']!, 'auto', ['es', 'en']);
    expect(between.language).toBe('en');
    expect(between.language_probability).toBeGreaterThan(0.5);
    // Neither candidate is what whisper hears: the transcript is still in one of them.
    const neither = await transcribe(files['speech.wav']!, 'auto', ['es', 'fr']);
    expect(['es', 'fr']).toContain(neither.language);
    expect(neither.language_probability).toBeLessThan(between.language_probability!);
    expect(neither.text.trim().length).toBeGreaterThan(0);
  });

  it.each(['speech.webm', 'speech.mp3', 'speech.m4a', 'stereo44k.wav', 's24.wav', 'f32.wav', 'f64.wav'])(
    'transcribes the same speech as %s',
    async (name) => {
      const reference = await transcribe(files['speech.wav']!);
      const t = await transcribe(files[name]!);
      expectTranscription(t, reference.duration_ms);
    },
  );

  it('takes a 5 MB and a 20 MB upload through the object store', async () => {
    expect(files['five-mb.wav']!.length).toBeGreaterThan(5 * 1024 * 1024);
    expect(files['twenty-mb.wav']!.length).toBeGreaterThan(20 * 1024 * 1024);
    const five = await transcribe(files['five-mb.wav']!);
    expectTranscription(five, 28_000);
    const twenty = await transcribe(files['twenty-mb.wav']!);
    expectTranscription(twenty, 110_000);
  }, 180_000);

  it('keeps the model loaded once across many sequential and concurrent requests', async () => {
    const before = (await health()).model_loads;
    for (let i = 0; i < 5; i++) await transcribe(files['speech.wav']!);
    const concurrent = await Promise.all(Array.from({ length: 6 }, () => transcribe(files['speech.wav']!)));
    concurrent.forEach((t) => expect(t.text.length).toBeGreaterThan(0));
    const h = await health();
    expect(before).toBe(1);
    expect(h).toMatchObject({ service: 'stt', status: 'loaded', model: 'tiny-whisper.bin', model_loads: 1 });
    const m = await metrics();
    expect(metricValue(m, 'parley_model_loads_total', { service: 'stt' })).toBe(1);
    expect(metricValue(m, 'parley_stt_server_restarts_total')).toBe(0);
    expect(metricValue(m, 'parley_request_duration_seconds_count', { operation: 'transcribe', outcome: 'ok' })).toBeGreaterThan(15);
    expect(whisperPids()).toHaveLength(1);
    expect((stt.output().match(/whisper-server#0.*started: pid/g) ?? []).length).toBe(1);
  }, 120_000);

  it('refuses bytes that are not audio as UNSUPPORTED_MEDIA', async () => {
    const error = await transcribeError(Buffer.from('{"this": "is JSON, not audio"}'));
    expect(error.code).toBe('UNSUPPORTED_MEDIA');
    expect(error.message).toMatch(/not an audio file we can read/);
    const png = await transcribeError(Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
    expect(png.code).toBe('UNSUPPORTED_MEDIA');
  });

  it('refuses an empty upload as INVALID_REQUEST', async () => {
    const error = await transcribeError(Buffer.alloc(0));
    expect(error).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/empty/) });
  });

  it('refuses a truncated WAV as INVALID_REQUEST', async () => {
    const wav = files['speech.wav']!;
    const error = await transcribeError(wav.subarray(0, Math.floor(wav.length / 3)));
    expect(error).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/truncated/) });
  });

  it('refuses a corrupt webm as INVALID_REQUEST (ffmpeg failure)', async () => {
    const webm = files['speech.webm']!;
    const corrupt = Buffer.concat([webm.subarray(0, 4), Buffer.alloc(2000, 0x55)]);
    const error = await transcribeError(corrupt);
    expect(['INVALID_REQUEST', 'UNSUPPORTED_MEDIA']).toContain(error.code);
    expect(error.message).toMatch(/webm/);
  });

  it('answers NO_SPEECH for silence', async () => {
    const error = await transcribeError(files['silence.wav']!);
    expect(error).toMatchObject({ code: 'NO_SPEECH', message: expect.stringMatching(/no speech detected/) });
  });

  it('refuses audio longer than STT_MAX_AUDIO_SECONDS', async () => {
    const error = await transcribeError(files['too-long.wav']!);
    expect(error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/limit is 150 s/) });
  });

  it('answers NOT_FOUND for an object that does not exist and INVALID_REQUEST for a bad payload', async () => {
    const missing = await firstValueFrom(
      streamRequest(client, { request_id: 'r1234567', audio_object: 'doesnotexist123', language: 'auto' } as never, {
        service: 'stt',
        subject: SUBJECTS.stt.transcribe,
        parse: (reply) => reply,
        firstReplyTimeoutMs: 10_000,
        idleTimeoutMs: 10_000,
      }),
    ).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });
    const bad = await firstValueFrom(
      streamRequest(client, { request_id: 'r1234568', audio_object: '../../etc/passwd' } as never, {
        service: 'stt',
        subject: SUBJECTS.stt.transcribe,
        parse: (reply) => reply,
        firstReplyTimeoutMs: 10_000,
        idleTimeoutMs: 10_000,
      }),
    ).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/audio_object/) });
  });

  it('stops work when the caller cancels, and keeps serving', async () => {
    const object = await upload(files['twenty-mb.wav']!);
    const request = { request_id: randomUUID().replaceAll('-', ''), audio_object: object, language: 'auto' };
    const subscription = streamRequest(client, request, {
      service: 'stt',
      subject: SUBJECTS.stt.transcribe,
      parse: (reply) => reply,
      firstReplyTimeoutMs: 90_000,
      idleTimeoutMs: 90_000,
    }).subscribe({ error: () => undefined });
    await new Promise((resolve) => setTimeout(resolve, 300));
    subscription.unsubscribe(); // publishes the cancel subject
    await waitUntil(
      async () => metricValue(await metrics(), 'parley_request_duration_seconds_count', { operation: 'transcribe', outcome: 'cancelled' }) >= 1,
      'the cancelled request to be recorded',
      10_000,
    );
    await waitUntil(() => isGone(object), 'the cancelled upload to be deleted', 10_000);
    const after = await transcribe(files['speech.wav']!);
    expectTranscription(after, after.duration_ms);
  });

  it('restarts a whisper-server that was killed; the next request succeeds and the reload is counted', async () => {
    const [pid] = whisperPids();
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGKILL');
    const killedAt = Date.now();
    const t = await transcribe(files['speech.wav']!); // waits for the restarted child
    const recoveredMs = Date.now() - killedAt;
    expect(t.text.trim().length).toBeGreaterThan(0);
    const [newPid] = whisperPids();
    expect(newPid).toBeGreaterThan(0);
    expect(newPid).not.toBe(pid);
    const h = await health();
    expect(h).toMatchObject({ status: 'loaded', model_loads: 2 });
    const m = await metrics();
    expect(metricValue(m, 'parley_stt_server_restarts_total')).toBe(1);
    expect(metricValue(m, 'parley_model_loads_total', { service: 'stt' })).toBe(2);
    expect(stt.output()).toMatch(/died: killed by SIGKILL/);
    // and it goes on serving
    expectTranscription(await transcribe(files['stereo44k.wav']!), t.duration_ms);
    recordReliabilityCase({
      id: 'fault.stt.whisper-server-killed',
      kind: 'fault',
      target: 'nats parley.v1.stt.transcribe',
      input: 'kill -9 the whisper-server child of the stt-service',
      outcome: 'restarted; the next transcription succeeds; health counts the reload (model_loads 2, parley_stt_server_restarts_total 1)',
      ms: recoveredMs,
    });
  });

  // Last: it kills the service.
  it('takes its whisper-server down with it when the service itself is killed (SIGKILL)', async () => {
    expect(whisperPids()).toHaveLength(1);
    const killedAt = Date.now();
    await stt.stop('SIGKILL');
    await waitUntil(() => whisperPids().length === 0, 'the orphaned whisper-server to die', 5000);
    recordReliabilityCase({
      id: 'fault.stt.service-killed',
      kind: 'fault',
      target: 'stt-service process',
      input: 'kill -9 the stt-service itself',
      outcome: 'its whisper-server child dies too within 5 s (no orphan holding the model)',
      ms: Date.now() - killedAt,
    });
  });
});
