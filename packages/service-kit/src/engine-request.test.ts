import { lastValueFrom, take, toArray } from 'rxjs';
import { ConcurrencyGate } from './concurrency-gate.js';
import { engineRequest } from './engine-request.js';
import { ServiceMetrics } from './metrics.js';
import { ModelLifecycle } from './model-lifecycle.js';
import { metricValue, waitUntil } from './testing.js';

/** An engine that writes a piece every 5 ms until aborted, then takes `stopMs` to really stop. */
function slowToStop(stopMs: number) {
  const state = { stopped: false };
  const run = async (emit: (value: string) => void, signal: AbortSignal) => {
    for (let i = 0; i < 100 && !signal.aborted; i++) {
      emit(`piece ${i}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, stopMs));
    state.stopped = true;
    return signal.aborted ? [] : ['done'];
  };
  return { run, state };
}

async function setUp() {
  const metrics = new ServiceMetrics('llm');
  const model = new ModelLifecycle('llm', 'fake', metrics);
  await model.load(async () => undefined);
  const value = async (name: string, labels: Record<string, string> = {}) =>
    metricValue(await metrics.registry.metrics(), name, { operation: 'chat', ...labels });
  return { metrics, model, gate: new ConcurrencyGate(1, 0), value };
}

describe('engineRequest', () => {
  it('streams what the engine emits, then its last values, and counts the request ok', async () => {
    const { metrics, model, gate, value } = await setUp();
    const engine = slowToStop(0);
    const out = await lastValueFrom(
      engineRequest({ operation: 'chat', model, gate, metrics, run: engine.run }).pipe(toArray()),
    );
    expect(out.at(-1)).toBe('done');
    expect(out).toHaveLength(101);
    expect(await value('parley_request_duration_seconds_count', { outcome: 'ok' })).toBe(1);
  });

  it('counts a cancelled request as ended when the engine has stopped, not when the cancel arrived', async () => {
    const { metrics, model, gate, value } = await setUp();
    const engine = slowToStop(60);
    await lastValueFrom(engineRequest({ operation: 'chat', model, gate, metrics, run: engine.run }).pipe(take(2)));
    expect(engine.state.stopped).toBe(false);
    expect(await value('parley_requests_in_flight')).toBe(1);
    expect(gate.active).toBe(1);
    await waitUntil(
      async () => (await value('parley_request_duration_seconds_count', { outcome: 'cancelled' })) === 1,
      'the cancel counted',
    );
    expect(engine.state.stopped).toBe(true);
    expect(await value('parley_requests_in_flight')).toBe(0);
    expect(await value('parley_cancel_to_stop_seconds_count')).toBe(1);
    expect(gate.active).toBe(0);
  });

  it('stops work that outlives its timeout with TIMEOUT and counts it so', async () => {
    const { metrics, model, gate, value } = await setUp();
    const engine = slowToStop(0);
    const timeout = { ms: 20, message: 'took longer than 20 ms' };
    await expect(
      lastValueFrom(engineRequest({ operation: 'chat', model, gate, metrics, run: engine.run, timeout })),
    ).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: 'took longer than 20 ms',
    });
    expect(await value('parley_request_duration_seconds_count', { outcome: 'TIMEOUT' })).toBe(1);
  });

  it('reports an engine error as ENGINE_FAILED, and refuses before the model is loaded', async () => {
    const { metrics, gate } = await setUp();
    const model = new ModelLifecycle('llm', 'fake', metrics);
    const run = async () => {
      throw new Error('native crash');
    };
    await expect(lastValueFrom(engineRequest({ operation: 'chat', model, gate, metrics, run }))).rejects.toMatchObject({
      code: 'MODEL_NOT_LOADED',
    });
    await model.load(async () => undefined);
    await expect(lastValueFrom(engineRequest({ operation: 'chat', model, gate, metrics, run }))).rejects.toMatchObject({
      code: 'ENGINE_FAILED',
      message: 'native crash',
    });
  });
});
