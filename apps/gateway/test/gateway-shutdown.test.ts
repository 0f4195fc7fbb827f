import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LANGUAGE_CODES } from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import {
  freePort,
  spawnService,
  startNatsServer,
  waitUntil,
  type SpawnedService,
  type TestNatsServer,
} from '@parley/service-kit/testing';
import WebSocket from 'ws';
import { recordReliabilityCase } from '../../../tooling/reliability.js';
import { waitForModel } from './system-support.js';
import {
  getJson,
  postSse,
  spawnGateway,
  startLlmService,
  startTestGateway,
  TTS_SERVICE_MAIN,
  type SseEventRecord,
  type TestGateway,
} from './support.js';

const LIVE_QUERY = 'language=en&difficulty=beginner&scenario=greeting';

type LiveEvent = { event: string; data: Record<string, any> };

/** A live socket reduced to what a shutdown shows: the events it got and how it was closed. */
function openLive(url: string) {
  const socket = new WebSocket(url);
  const events: LiveEvent[] = [];
  const state: { closed?: { code: number; reason: string } } = {};
  socket.on('message', (data: Buffer) => events.push(JSON.parse(data.toString()) as LiveEvent));
  socket.on('close', (code, reason) => (state.closed = { code, reason: reason.toString() }));
  const until = (what: string, match: (e: LiveEvent) => boolean) =>
    waitUntil(
      () => events.find(match),
      `${what}; live events so far: ${events.map((e) => e.event).join(' ')}`,
      30_000,
      10,
    );
  return { socket, events, state, until };
}

/** A WebSocket upgrade's answer when it is refused (the HTTP status and headers of the refusal). */
function upgradeRefusal(url: string): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined });
      res.resume();
      socket.terminate();
    });
    socket.once('open', () => {
      socket.close();
      reject(new Error('the upgrade was accepted'));
    });
    socket.once('error', () => undefined);
  });
}

const terminal = (events: SseEventRecord[]) => events.filter((e) => e.event === 'complete' || e.event === 'error');

/**
 * SIGTERM reaches a gateway replica (a rollout, a scale-down) while it serves a text stream and
 * a live socket, each in the middle of a turn. The gateway is a real process (its own signal
 * handling is under test) on a real broker, llm-service and tts-service: it goes unready and
 * refuses new work with 503 + Retry-After, lets the turns finish within SHUTDOWN_GRACE_MS (live
 * sockets then closed with 1012), ends what is still running after that with one error, stores
 * nothing half-done and exits.
 */
describe('a gateway replica shut down (SIGTERM) mid-turn', () => {
  let nats: TestNatsServer;
  let dir: string;
  let services: SpawnedService[] = [];
  let reader: TestGateway;

  async function startGatewayProcess(env: Record<string, string>) {
    const { service: gateway, url } = await spawnGateway(nats.url, env);
    services.push(gateway);
    await waitForModel(url, 'llm', services);
    await waitForModel(url, 'tts', services);
    return { gateway, url, liveUrl: `${url.replace('http', 'ws')}/api/conversation/live?${LIVE_QUERY}` };
  }

  const sessionCount = async (id: string) =>
    (await getJson(`${reader.url}/api/conversation/session/${id}`)).body.count as number;

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-gateway-shutdown-'));
    // Endless answers cut at LLM_MAX_TOKENS: a turn lasts as long as the test needs.
    const model = await writeTinyGguf(join(dir, 'endless.gguf'), { endless: true });
    const voice = await writeTinyPiperVoice(join(dir, 'voice'));
    services = [
      startLlmService(nats.url, model.path, await freePort()),
      spawnService('tts-service', TTS_SERVICE_MAIN, {
        NATS_URL: nats.url,
        TTS_HTTP_PORT: String(await freePort()),
        TTS_VOICES: JSON.stringify([
          { id: 'tiny', languages: LANGUAGE_CODES, model: voice.model, tokens: voice.tokens },
        ]),
      }),
    ];
    // Another replica (in process), reading what the stopped one stored.
    reader = await startTestGateway(nats.url);
  }, 120_000);

  afterAll(async () => {
    await reader?.close();
    await Promise.all(services.map((s) => s.stop('SIGKILL')));
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('goes unready, refuses new work with 503 + Retry-After, finishes the turns under way, closes live sockets with 1012 and exits', async () => {
    // Short answers (their speech must fit in the grace period: a live turn completes once its audio has played).
    const { gateway, url, liveUrl } = await startGatewayProcess({ SHUTDOWN_GRACE_MS: '25000', LLM_MAX_TOKENS: '60' });
    const live = openLive(`${liveUrl}&session_id=live-drained`);
    await live.until('ready', (e) => e.event === 'ready');

    live.socket.send(JSON.stringify({ type: 'text', message: 'Tell me a long story, please.' }));
    await live.until('the live turn to begin', (e) => e.event === 'response_chunk');
    let signalled: number | undefined;
    // Spoken (tts): the stream lasts until its speech is synthesized.
    const stream = postSse(
      `${url}/api/conversation/text-stream`,
      { message: 'Hola', session_id: 'sse-drained', tts: true },
      {
        disconnectWhen: (event) => {
          // SIGTERM once both turns are under way: the live turn answers, the stream has its first chunk.
          if (event.event === 'response_chunk' && signalled === undefined) {
            signalled = Date.now();
            gateway.child.kill('SIGTERM');
          }
          return false;
        },
      },
    );
    await waitUntil(() => signalled, 'the first chunk of the text stream', 30_000, 10);

    // Unready first (the balancer stops sending work), then every new request is refused.
    const ready = (await waitUntil(
      async () => {
        const res = await fetch(`${url}/api/health/ready`);
        return res.status === 503 ? res : undefined;
      },
      'readiness to go unready',
      5000,
      10,
    )) as Response;
    expect(ready.status).toBe(503);
    // The health routes still answer (probes must see the replica), only readiness says no.
    expect(await ready.json()).toMatchObject({ status: 'degraded', models: expect.any(Object) });
    expect((await fetch(`${url}/api/health`)).status).toBe(200);
    const readyz = await fetch(`${url}/readyz`);
    expect({ status: readyz.status, body: await readyz.json() }).toEqual({
      status: 503,
      body: expect.objectContaining({ status: 'not_ready', draining: true }),
    });
    const refused = await fetch(`${url}/api/conversation/text`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: 'Hola', session_id: 'refused' }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: expect.stringMatching(/shutting down.*another replica/),
    });
    const refusedSocket = await upgradeRefusal(liveUrl);
    expect(refusedSocket).toEqual({ status: 503, retryAfter: '1' });

    // The turns under way finish: the stream with `complete`, the live turn with `complete` then 1012.
    const { events } = await stream;
    expect(terminal(events)).toEqual([expect.objectContaining({ event: 'complete' })]);
    expect(events.some((e) => e.event === 'audio')).toBe(true);
    await waitUntil(() => live.state.closed, 'the live socket to be closed', 30_000, 10);
    const liveTerminal = live.events.filter(
      (e) => e.data.turn_id === 't1' && ['complete', 'error', 'interrupted'].includes(e.event),
    );
    expect(liveTerminal.map((e) => [e.event, e.data.code, e.data.error])).toEqual([['complete', undefined, undefined]]);
    expect(live.state.closed!.code).toBe(1012);
    expect(await gateway.exited).toBe(0);
    const ms = Date.now() - signalled!;

    // Whole turns stored, nothing of the refused one.
    expect(await sessionCount('sse-drained')).toBe(2);
    expect(await sessionCount('live-drained')).toBe(2);
    expect(await sessionCount('refused')).toBe(0);
    recordReliabilityCase({
      id: 'fault.gateway.sigterm-drains',
      kind: 'fault',
      target: 'gateway process',
      input: 'SIGTERM the gateway mid text-stream and mid live turn (SHUTDOWN_GRACE_MS 25 s)',
      outcome:
        'readiness 503 at once (/readyz draining); new requests and live sockets 503 SERVICE_UNAVAILABLE with Retry-After 1; ' +
        'the text-stream and the live turn under way end with complete and are stored whole, then the live socket closes with 1012; exit 0',
      ms,
    });
  }, 120_000);

  it('ends the turns still running when the grace period is over with one error each, stores nothing, and exits', async () => {
    const { gateway, url, liveUrl } = await startGatewayProcess({ SHUTDOWN_GRACE_MS: '300', LLM_MAX_TOKENS: '2048' });
    const live = openLive(`${liveUrl}&session_id=live-cut`);
    await live.until('ready', (e) => e.event === 'ready');
    live.socket.send(JSON.stringify({ type: 'text', message: 'Tell me a long story, please.' }));
    await live.until('the live turn to begin', (e) => e.event === 'response_chunk');

    let signalled: number | undefined;
    const { events } = await postSse(
      `${url}/api/conversation/text-stream`,
      { message: 'Hola', session_id: 'sse-cut' },
      {
        disconnectWhen: (event) => {
          if (event.event === 'response_chunk' && signalled === undefined) {
            signalled = Date.now();
            gateway.child.kill('SIGTERM');
          }
          return false;
        },
      },
    );
    expect(terminal(events)).toEqual([
      {
        event: 'error',
        data: {
          code: 'SERVICE_UNAVAILABLE',
          error: expect.stringMatching(/gateway replica shut down before finishing/),
          request_id: expect.any(String),
        },
      },
    ]);
    await waitUntil(() => live.state.closed, 'the live socket to be closed', 30_000, 10);
    const liveTerminal = live.events.filter(
      (e) => e.data.turn_id === 't1' && ['complete', 'error', 'interrupted'].includes(e.event),
    );
    expect(liveTerminal).toEqual([
      { event: 'error', data: expect.objectContaining({ code: 'SERVICE_UNAVAILABLE', turn_id: 't1' }) },
    ]);
    expect(live.state.closed!.code).toBe(1012);
    expect(await gateway.exited).toBe(0);
    const ms = Date.now() - signalled!;

    expect(await sessionCount('sse-cut')).toBe(0);
    expect(await sessionCount('live-cut')).toBe(0);
    recordReliabilityCase({
      id: 'fault.gateway.sigterm-grace-over',
      kind: 'fault',
      target: 'gateway process',
      input: 'SIGTERM the gateway mid text-stream and mid live turn, both longer than SHUTDOWN_GRACE_MS (300 ms)',
      outcome:
        'each turn ends with one error event SERVICE_UNAVAILABLE "gateway replica shut down before finishing", the live socket then closes with 1012; nothing stored; exit 0',
      ms,
    });
  }, 120_000);
});
