import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { freePort, metricValue, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { recordReliabilityCase } from '../../../tooling/reliability.js';
import { getJson, postJson, postSse, startLlmService, startTestGateway, type TestGateway } from './support.js';

interface Replica {
  service: SpawnedService;
  metricsUrl: string;
}

/**
 * SIGTERM (a rollout, a scale-down) reaches an llm-service replica in the middle of a turn: it
 * leaves the queue group at once (new turns go to the other replica), finishes what it is doing
 * within SHUTDOWN_GRACE_MS, and ends what is still running after that with an error, never
 * leaving a turn hanging or half-stored.
 */
describe('an llm-service replica shut down (SIGTERM) mid-turn', () => {
  let nats: TestNatsServer;
  let modelPath: string;
  let dir: string;
  let replicas: Replica[] = [];
  let gateway: TestGateway;

  async function startReplica(graceMs: number): Promise<Replica> {
    const port = await freePort();
    const replica = {
      service: startLlmService(nats.url, modelPath, port, { SHUTDOWN_GRACE_MS: String(graceMs) }),
      metricsUrl: `http://127.0.0.1:${port}/metrics`,
    };
    await waitUntil(async () => metricValue(await (await fetch(replica.metricsUrl)).text(), 'parley_model_loaded') === 1, 'a replica loaded', 60_000);
    replicas.push(replica);
    return replica;
  }

  const working = () =>
    waitUntil(
      async () => {
        for (const r of replicas) {
          const text = await (await fetch(r.metricsUrl)).text();
          if (metricValue(text, 'parley_requests_in_flight', { operation: 'chat' }) > 0) return r;
        }
        return false;
      },
      'a replica at work',
      20_000,
      10,
    ) as Promise<Replica>;

  const sessionCount = async (id: string) => (await getJson(`${gateway.url}/api/conversation/session/${id}`)).body.count as number;

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-shutdown-'));
    // Endless answers cut at max_tokens: a turn lasts seconds.
    modelPath = (await writeTinyGguf(join(dir, 'endless.gguf'), { endless: true })).path;
    await Promise.all([startReplica(20_000), startReplica(20_000)]);
    gateway = await startTestGateway(nats.url, { llmMaxTokens: 600 });
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await Promise.all(replicas.map((r) => r.service.stop()));
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('finishes the turn under way within the grace period while new turns go to the other replica', async () => {
    const turn = postSse(`${gateway.url}/api/conversation/text-stream`, { message: 'Hola', session_id: 'drained' });
    const stopping = await working();
    stopping.service.child.kill('SIGTERM');
    const signalledAt = Date.now();
    replicas = replicas.filter((r) => r !== stopping);

    const during = await postJson(`${gateway.url}/api/conversation/text`, { message: 'Hola', session_id: 'during' });
    expect(during.status).toBe(200);

    const { events } = await turn;
    const drainedMs = Date.now() - signalledAt;
    expect(events.filter((e) => e.event === 'complete' || e.event === 'error')).toEqual([expect.objectContaining({ event: 'complete' })]);
    await stopping.service.exited;
    expect(await sessionCount('drained')).toBe(2);
    recordReliabilityCase({
      id: 'fault.llm.sigterm-drains',
      kind: 'fault',
      target: 'POST /api/conversation/text-stream',
      input: 'SIGTERM the llm-service replica mid-turn (SHUTDOWN_GRACE_MS 20 s, 2 replicas)',
      outcome: 'the turn under way ends with complete (drained) and is stored whole; a turn sent meanwhile gets 200 from the other replica',
      ms: drainedMs,
    });
  });

  it('ends a turn still running when the grace period is over with one error event, and stores nothing', async () => {
    const [spare] = replicas;
    await startReplica(300);
    await spare!.service.stop(); // the short-grace replica is now the only one
    replicas = replicas.filter((r) => r !== spare);

    const turn = postSse(`${gateway.url}/api/conversation/text-stream`, { message: 'Hola', session_id: 'cut-short' });
    const stopping = await working();
    stopping.service.child.kill('SIGTERM');
    const signalledAt = Date.now();
    const { events } = await turn;
    const endedMs = Date.now() - signalledAt;
    const terminal = events.filter((e) => e.event === 'complete' || e.event === 'error');
    expect(terminal).toEqual([
      { event: 'error', data: { code: 'SERVICE_UNAVAILABLE', error: expect.stringMatching(/llm replica shut down before finishing/), request_id: expect.any(String) } },
    ]);
    await stopping.service.exited;
    expect(await sessionCount('cut-short')).toBe(0);
    recordReliabilityCase({
      id: 'fault.llm.sigterm-grace-over',
      kind: 'fault',
      target: 'POST /api/conversation/text-stream',
      input: 'SIGTERM the only llm-service replica mid-turn (SHUTDOWN_GRACE_MS 300 ms)',
      outcome: 'one error event SERVICE_UNAVAILABLE "llm replica shut down before finishing"; nothing stored',
      ms: endedMs,
    });
  });
});
