import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { freePort, metricValue, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { getJson, postSse, startLlmService, startTestGateway, type TestGateway } from './support.js';

const TURN = { message: 'Hola', language: 'es', difficulty: 'intermediate', scenario: 'restaurant' };

interface Replica {
  service: SpawnedService;
  metricsUrl: string;
}

/**
 * Several llm-service replicas on an "endless" tiny model (it writes until max_tokens), so a
 * generation lasts long enough to be cancelled or interrupted mid-way.
 */
describe('llm-service replicas behind the gateway', () => {
  let nats: TestNatsServer;
  let dir: string;
  let modelPath: string;
  let replicas: Replica[] = [];
  let gateway: TestGateway;

  async function startReplica(): Promise<Replica> {
    const port = await freePort();
    const replica = { service: startLlmService(nats.url, modelPath, port), metricsUrl: `http://127.0.0.1:${port}/metrics` };
    await waitUntil(async () => (await fetch(replica.metricsUrl)).ok, 'an llm-service replica to start').catch((error) => {
      throw new Error(`${String(error)}\n${replica.service.output()}`);
    });
    replicas.push(replica);
    return replica;
  }

  const metrics = async (replica: Replica) => (await fetch(replica.metricsUrl)).text();
  const chatCount = async (replica: Replica, outcome?: string) =>
    metricValue(await metrics(replica), 'parley_request_duration_seconds_count', { operation: 'chat', ...(outcome ? { outcome } : {}) });

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-replicas-'));
    modelPath = (await writeTinyGguf(join(dir, 'endless.gguf'), { endless: true })).path;
    await Promise.all([startReplica(), startReplica()]);
    // Short answers for most tests; long ones where a test needs time to interrupt.
    gateway = await startTestGateway(nats.url, { llmMaxTokens: 40, llmFirstReplyTimeoutMs: 5000, llmIdleTimeoutMs: 1500 });
    await waitUntil(async () => {
      const values = await Promise.all(replicas.map(async (r) => metricValue(await metrics(r), 'parley_model_loaded')));
      return values.every((v) => v === 1);
    }, 'both replicas to load the model');
  });

  afterAll(async () => {
    await gateway?.close();
    await Promise.all(replicas.map((r) => r.service.stop()));
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the model exactly once per replica however many requests it serves', async () => {
    for (let i = 0; i < 6; i++) await postSse(`${gateway.url}/api/conversation/text-stream`, TURN);
    for (const replica of replicas) {
      const text = await metrics(replica);
      expect(metricValue(text, 'parley_model_loads_total')).toBe(1);
      expect(replica.service.output().match(/loaded in \d+ ms \(load #1/g)).toHaveLength(1);
      expect(replica.service.output()).not.toMatch(/load #2/);
    }
  });

  it('shares concurrent streams between the replicas, each stream served by exactly one', async () => {
    const before = await Promise.all(replicas.map((r) => chatCount(r)));
    const streams = await Promise.all(
      Array.from({ length: 8 }, () => postSse(`${gateway.url}/api/conversation/text-stream`, TURN)),
    );
    const after = await Promise.all(replicas.map((r) => chatCount(r)));
    const servedPerReplica = after.map((count, i) => count - before[i]!);
    // Each of the 8 requests was handled once, and both replicas took a share.
    expect(servedPerReplica.reduce((a, b) => a + b, 0)).toBe(8);
    expect(servedPerReplica.every((n) => n > 0)).toBe(true);
    for (const { events } of streams) {
      expect(events.filter((e) => e.event === 'complete' || e.event === 'error')).toEqual([expect.objectContaining({ event: 'complete' })]);
      const chunks = events.filter((e) => e.event === 'response_chunk').map((e) => e.data.chunk).join('');
      expect(events.at(-1)!.data.full_response).toBe(chunks);
      // max_tokens 40: one replica wrote all 40 tokens of this stream (two would have written more).
      expect((events.at(-1)!.data.usage as { completion_tokens: number }).completion_tokens).toBe(40);
    }
  });

  it('cancels generation at the service when the client disconnects, and stores nothing', async () => {
    const longGateway = await startTestGateway(nats.url, { llmMaxTokens: 2048 });
    try {
      const before = await Promise.all(replicas.map((r) => chatCount(r, 'cancelled')));
      const { events, disconnected } = await postSse(`${longGateway.url}/api/conversation/text-stream`, TURN, {
        disconnectWhen: (e) => e.event === 'response_chunk',
      });
      expect(disconnected).toBe(true);
      const sessionId = events[0]!.data.session_id as string;
      // Observed at the service: the chat request ended as cancelled and nothing is in flight.
      await waitUntil(async () => {
        const after = await Promise.all(replicas.map((r) => chatCount(r, 'cancelled')));
        return after.reduce((a, b) => a + b, 0) > before.reduce((a, b) => a + b, 0);
      }, 'the llm-service to record a cancelled chat', 3000);
      for (const replica of replicas) {
        expect(metricValue(await metrics(replica), 'parley_requests_in_flight', { operation: 'chat' })).toBe(0);
      }
      // The engine itself reported stopping after the cancel (how fast: `npm run bench`, section 8).
      const stops = await Promise.all(replicas.map(async (r) => metricValue(await metrics(r), 'parley_cancel_to_stop_seconds_count')));
      expect(stops.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
      const stored = await getJson(`${longGateway.url}/api/conversation/session/${sessionId}`);
      expect(stored.body.count).toBe(0);
    } finally {
      await longGateway.close();
    }
  });

  it('ends the stream with one error event when the replica dies mid-stream, instead of hanging', async () => {
    const longGateway = await startTestGateway(nats.url, { llmMaxTokens: 2048, llmIdleTimeoutMs: 1500 });
    try {
      let killed = false;
      const started = Date.now();
      const { events } = await postSse(`${longGateway.url}/api/conversation/text-stream`, TURN, {
        disconnectWhen: (e) => {
          if (e.event === 'response_chunk' && !killed) {
            killed = true;
            for (const r of replicas) r.service.child.kill('SIGKILL');
          }
          return false;
        },
      });
      expect(Date.now() - started).toBeLessThan(10_000);
      const terminal = events.filter((e) => e.event === 'complete' || e.event === 'error');
      expect(terminal).toHaveLength(1);
      expect(terminal[0]).toEqual({ event: 'error', data: { code: 'TIMEOUT', error: expect.stringMatching(/llm/) } });
    } finally {
      await longGateway.close();
      await Promise.all(replicas.map((r) => r.service.exited));
      replicas = [];
    }
  });

  it('answers with an error event at once when no llm-service runs', async () => {
    const started = Date.now();
    const { events } = await postSse(`${gateway.url}/api/conversation/text-stream`, TURN);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(events.map((e) => e.event)).toEqual(['response_start', 'error']);
    expect(events[1]!.data).toEqual({ code: 'SERVICE_UNAVAILABLE', error: expect.stringMatching(/llm service is not running/) });
    const blocking = await fetch(`${gateway.url}/api/conversation/text`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(TURN),
    });
    expect(blocking.status).toBe(503);
    expect(await getJson(`${gateway.url}/api/health/models`)).toEqual({
      status: 200,
      body: { status: 'degraded', models: { stt: 'unavailable', llm: 'unavailable', tts: 'unavailable' } },
    });
  });
});
