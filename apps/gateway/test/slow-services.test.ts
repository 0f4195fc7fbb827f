import { recordReliabilityCase } from '../../../tooling/reliability.js';
import { loadGatewayConfig } from '../src/config.js';
import { postSse, startTestGateway, type TestGateway } from './support.js';
import { startLlmSystem, type LlmSystem } from './system-support.js';

/**
 * A service that is alive but slow: an llm-service with one sequence, so a second turn waits
 * for the first (seconds, on an endless model cut at max_tokens). Heartbeats keep the waiting
 * turn alive past the liveness timeout; only the first-reply timeout ends it, and says so.
 */
describe('a slow (busy) llm-service', () => {
  let system: LlmSystem;
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    // The endless model writes until max_tokens: 2048 of them hold the only sequence for seconds.
    system = await startLlmSystem({ endless: true, llmEnv: { LLM_SEQUENCES: '1' }, gateway: { llmMaxTokens: 2048 } });
    gateways.push(system.gateway);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await system?.stop();
  });

  const turn = (gateway: TestGateway) => postSse(`${gateway.url}/api/conversation/text-stream`, { message: 'Hola' });
  const terminal = (events: Array<{ event: string; data: Record<string, unknown> }>) =>
    events.filter((e) => e.event === 'complete' || e.event === 'error');

  it('completes a turn that waited for a free sequence longer than the liveness timeout', async () => {
    const [gateway] = gateways;
    const first = turn(gateway!);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    let firstChunkAfterMs = 0;
    const waiting = await postSse(`${gateway!.url}/api/conversation/text-stream`, { message: 'Hola' }, {
      disconnectWhen: (event) => {
        if (event.event === 'response_chunk') firstChunkAfterMs ||= Date.now() - started;
        return false;
      },
    });
    expect((await first).events.at(-1)!.event).toBe('complete');
    expect(terminal(waiting.events).map((e) => e.event)).toEqual(['complete']);
    // It really waited longer than the liveness timeout for its first token.
    expect(firstChunkAfterMs).toBeGreaterThan(loadGatewayConfig({}).serviceLivenessTimeoutMs);
    recordReliabilityCase({
      id: 'fault.llm.slow-waits-past-liveness',
      kind: 'fault',
      target: 'POST /api/conversation/text-stream',
      input: 'the llm-service is busy (one sequence): a second turn waits for it longer than the liveness timeout',
      outcome: 'both turns end with complete (heartbeats keep the waiting turn alive)',
      ms: firstChunkAfterMs,
    });
  });

  it('ends a turn whose first reply takes longer than its timeout with TIMEOUT naming that phase', async () => {
    const impatient = await startTestGateway(system.nats.url, { llmMaxTokens: 2048, llmFirstReplyTimeoutMs: 2000 });
    // A long answer holds the only sequence for well over 2 s.
    const long = await startTestGateway(system.nats.url, { llmMaxTokens: 2048 });
    gateways.push(impatient, long);
    const busy = turn(long);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    const { events } = await turn(impatient);
    const endedMs = Date.now() - started;
    expect(terminal(events)).toEqual([
      { event: 'error', data: { code: 'TIMEOUT', error: expect.stringMatching(/llm service sent nothing for 2000 ms \(waiting for the first reply\)/), request_id: expect.any(String) } },
    ]);
    expect((await busy).events.at(-1)!.event).toBe('complete');
    recordReliabilityCase({
      id: 'fault.llm.slow-first-reply',
      kind: 'fault',
      target: 'POST /api/conversation/text-stream',
      input: 'the llm-service answers slower than the first-reply timeout (set to 2 s)',
      outcome: 'one error event TIMEOUT "llm service sent nothing for 2000 ms (waiting for the first reply)"',
      ms: endedMs,
    });
  });
});

/** An llm-service with one sequence and no queue: a second turn is refused at once, saying when to retry. */
describe('a full llm-service', () => {
  let system: LlmSystem;
  let gateway: TestGateway;

  beforeAll(async () => {
    system = await startLlmSystem({ endless: true, llmEnv: { LLM_SEQUENCES: '1', LLM_MAX_QUEUED: '0' }, gateway: { llmMaxTokens: 600 } });
    ({ gateway } = system);
  }, 120_000);

  afterAll(() => system?.stop());

  it('answers 503 SERVICE_BUSY with Retry-After on the blocking route, and ends a stream with SERVICE_BUSY', async () => {
    let busy: ReturnType<typeof postSse> | undefined;
    const started = new Promise<void>((resolve) => {
      busy = postSse(`${gateway.url}/api/conversation/text-stream`, { message: 'Hola' }, {
        disconnectWhen: (event) => {
          if (event.event === 'response_chunk') resolve();
          return false;
        },
      });
    });
    await started;
    let sentAt = Date.now();
    const res = await fetch(`${gateway.url}/api/conversation/text`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: 'Hola' }),
    });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await res.json()).toMatchObject({ code: 'SERVICE_BUSY', message: expect.stringMatching(/busy/) });
    const blockingMs = Date.now() - sentAt;
    sentAt = Date.now();
    const { events } = await postSse(`${gateway.url}/api/conversation/text-stream`, { message: 'Hola' });
    const streamMs = Date.now() - sentAt;
    expect(events.filter((e) => e.event === 'complete' || e.event === 'error')).toEqual([
      { event: 'error', data: { code: 'SERVICE_BUSY', error: expect.stringMatching(/busy/), request_id: expect.any(String) } },
    ]);
    expect((await busy!).events.at(-1)!.event).toBe('complete');
    const full = { kind: 'fault' as const, input: 'the llm-service is full (one sequence busy, LLM_MAX_QUEUED 0)' };
    recordReliabilityCase({ ...full, id: 'fault.llm.full-blocking', target: 'POST /api/conversation/text', outcome: '503 SERVICE_BUSY with Retry-After; the turn under way completes', ms: blockingMs });
    recordReliabilityCase({ ...full, id: 'fault.llm.full-stream', target: 'POST /api/conversation/text-stream', outcome: 'one error event SERVICE_BUSY at once (no waiting for a timeout)', ms: streamMs });
  });
});
