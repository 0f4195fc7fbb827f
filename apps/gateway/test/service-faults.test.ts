import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LANGUAGE_CODES } from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { writeTinyWhisperModel } from '@parley/models/fixtures/whisper';
import { freePort, metricValue, spawnService, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { recordReliabilityCase } from '../../../tooling/reliability.js';
import { loadGatewayConfig } from '../src/config.js';
import { getJson, makeSpeech, postForm, postJson, postSse, run, startLlmService, startTestGateway, STT_SERVICE_MAIN, TTS_SERVICE_MAIN, type TestGateway } from './support.js';

interface Replica {
  service: SpawnedService;
  metricsUrl: string;
}

const OPERATION = { llm: 'chat', stt: 'transcribe', tts: 'synthesize' } as const;
type Service = keyof typeof OPERATION;

/**
 * A replica killed (SIGKILL) while it works on a request: the caller learns it within about
 * the liveness timeout (heartbeats stop), not after the first-reply or idle timeouts a real
 * model needs, and the next request goes to the replica still running. Two replicas of each
 * service, real engines on generated models, a real broker.
 */
describe('a model service replica killed mid-request', () => {
  let nats: TestNatsServer;
  let dir: string;
  let longSpeech: Uint8Array;
  const replicas: Record<Service, Replica[]> = { llm: [], stt: [], tts: [] };
  let gateway: TestGateway;
  const defaults = loadGatewayConfig({});

  async function start(service: Service, model: string): Promise<Replica> {
    const port = await freePort();
    const env = { NATS_URL: nats.url };
    const spawned =
      service === 'llm'
        ? startLlmService(nats.url, model, port)
        : service === 'stt'
          ? spawnService('stt-service', STT_SERVICE_MAIN, { ...env, STT_MODEL_PATH: model, STT_THREADS: '1', STT_HTTP_PORT: String(port) })
          : spawnService('tts-service', TTS_SERVICE_MAIN, {
              ...env,
              TTS_VOICES: JSON.stringify([{ id: 'tiny-voice', languages: LANGUAGE_CODES, model: join(model, 'model.onnx'), tokens: join(model, 'tokens.txt') }]),
              TTS_THREADS: '1',
              TTS_HTTP_PORT: String(port),
            });
    const replica = { service: spawned, metricsUrl: `http://127.0.0.1:${port}/metrics` };
    replicas[service].push(replica);
    return replica;
  }

  const inFlight = async (service: Service, replica: Replica) =>
    metricValue(await (await fetch(replica.metricsUrl)).text(), 'parley_requests_in_flight', { operation: OPERATION[service] });

  /** Waits until one replica of `service` is working on a request, kills it with SIGKILL, and says when. */
  async function killTheWorkingReplica(service: Service): Promise<number> {
    const working = (await waitUntil(
      async () => {
        for (const replica of replicas[service]) if ((await inFlight(service, replica)) > 0) return replica;
        return false;
      },
      `a ${service} replica at work`,
      20_000,
      10,
    )) as Replica;
    working.service.child.kill('SIGKILL');
    replicas[service] = replicas[service].filter((r) => r !== working);
    return Date.now();
  }

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-faults-'));
    const speech = makeSpeech(dir, 'Hello! My name is Anna. I would like to practise Spanish with you today.');
    // About two minutes of speech: a transcription that takes a while.
    const long = join(dir, 'long.wav');
    run('ffmpeg', ['-y', '-loglevel', 'error', '-stream_loop', '25', '-i', speech.wav, '-c', 'copy', long]);
    longSpeech = await readFile(long);
    const gguf = await writeTinyGguf(join(dir, 'endless.gguf'), { endless: true });
    await writeTinyWhisperModel(join(dir, 'whisper.bin'));
    await writeTinyPiperVoice(join(dir, 'voice'));
    for (let i = 0; i < 2; i++) {
      await start('llm', gguf.path);
      await start('stt', join(dir, 'whisper.bin'));
      await start('tts', join(dir, 'voice'));
    }
    // The default first-reply and idle timeouts of a real deployment (30 s, 15 s, 60 s...).
    gateway = await startTestGateway(nats.url, { llmMaxTokens: 2048 });
    await waitUntil(async () => {
      const loaded = await Promise.all(
        Object.values(replicas).flat().map(async (r) => metricValue(await (await fetch(r.metricsUrl)).text(), 'parley_model_loaded')),
      );
      return loaded.every((v) => v === 1);
    }, 'every replica loaded', 90_000).catch((error) => {
      const logs = Object.values(replicas).flat().map((r) => `--- ${r.service.name}\n${r.service.output()}`);
      throw new Error(`${String(error)}\n${logs.join('\n')}`);
    });
  }, 240_000);

  afterAll(async () => {
    await gateway?.close();
    await Promise.all(Object.values(replicas).flat().map((r) => r.service.stop()));
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const expectDetectedByHeartbeat = (error: unknown, service: Service, killedAt: number): number => {
    const elapsedMs = Date.now() - killedAt;
    console.log(`${service}: the caller knew ${elapsedMs} ms after the kill (liveness timeout ${defaults.serviceLivenessTimeoutMs} ms)`);
    expect(error).toEqual(expect.objectContaining({ code: 'TIMEOUT' }));
    // An SSE error event says it in `error`, an HTTP error body in `message`.
    const said = error as { error: string; message?: string };
    expect(said.message ?? said.error).toMatch(
      new RegExp(`${service} service stopped answering: no heartbeat`),
    );
    // Far sooner than the timeouts a slow real model is allowed.
    expect(elapsedMs).toBeLessThan(Math.min(defaults.llmIdleTimeoutMs, defaults.ttsIdleTimeoutMs));
    return elapsedMs;
  };

  /** The reliability record's entry for a replica killed mid-request (ms: kill → the caller knew). */
  const recordKill = (service: Service, target: string, ended: string, ms: number) =>
    recordReliabilityCase({
      id: `fault.${service}.kill-9-mid-request`,
      kind: 'fault',
      target,
      input: `kill -9 the ${service}-service replica doing the work (2 replicas, real timeouts)`,
      outcome: `${ended} TIMEOUT "${service} service stopped answering: no heartbeat", sooner than the idle timeout; the next request succeeds on the other replica`,
      ms,
    });

  it('llm: the stream ends with one TIMEOUT error event, and the next turn goes to the other replica', async () => {
    let killedAt = 0;
    const stream = postSse(`${gateway.url}/api/conversation/text-stream`, { message: 'Hola', language: 'es' });
    killedAt = await killTheWorkingReplica('llm');
    const { events } = await stream;
    const terminal = events.filter((e) => e.event === 'complete' || e.event === 'error');
    expect(terminal).toHaveLength(1);
    const ms = expectDetectedByHeartbeat(terminal[0]!.data, 'llm', killedAt);
    expect((await postJson(`${gateway.url}/api/conversation/text`, { message: 'Hola' })).status).toBe(200);
    recordKill('llm', 'POST /api/conversation/text-stream', 'one error event', ms);
  });

  it('stt: the transcription ends with 504 TIMEOUT, and the next one goes to the other replica', async () => {
    const response = postForm(`${gateway.url}/api/conversation/transcribe`, {}, { field: 'audio', name: 'long.wav', bytes: longSpeech });
    const killedAt = await killTheWorkingReplica('stt');
    const res = await response;
    expect(res.status).toBe(504);
    const ms = expectDetectedByHeartbeat(await res.json(), 'stt', killedAt);
    const next = await postForm(`${gateway.url}/api/conversation/transcribe`, {}, { field: 'audio', name: 'long.wav', bytes: longSpeech });
    expect({ status: next.status, body: await next.json() }).toEqual({ status: 200, body: expect.objectContaining({ text: expect.stringMatching(/\S/) }) });
    recordKill('stt', 'POST /api/conversation/transcribe', '504', ms);
  });

  it('tts: the synthesis ends with 504 TIMEOUT, and the next one goes to the other replica', async () => {
    const text = 'Una frase bastante larga para que la voz tenga trabajo durante un buen rato. '.repeat(60);
    const response = postForm(`${gateway.url}/api/conversation/synthesize`, { text, language: 'es' });
    const killedAt = await killTheWorkingReplica('tts');
    const res = await response;
    expect(res.status).toBe(504);
    const ms = expectDetectedByHeartbeat(await res.json(), 'tts', killedAt);
    expect((await postForm(`${gateway.url}/api/conversation/synthesize`, { text: 'Hola.', language: 'es' })).status).toBe(200);
    recordKill('tts', 'POST /api/conversation/synthesize', '504', ms);
  });

  it('every service still answers health afterwards', async () => {
    const { body } = await getJson(`${gateway.url}/api/health/models`);
    expect(body.models).toEqual({ stt: 'loaded', llm: 'loaded', tts: 'loaded' });
  });
});
