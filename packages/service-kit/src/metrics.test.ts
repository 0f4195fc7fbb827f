import { availableParallelism } from 'node:os';
import { envInt, usableCpuCount } from './cpus.js';
import { bucketReplicas } from './nats.js';
import { METRICS } from '@parley/contracts';
import { ConcurrencyGate } from './concurrency-gate.js';
import { ServiceMetrics } from './metrics.js';
import { metricValue } from './testing.js';

describe('ServiceMetrics', () => {
  it('counts a model load, marks it loaded, and times requests by outcome exactly once', async () => {
    const metrics = new ServiceMetrics('llm');
    metrics.markModelLoaded('tiny.gguf');
    const end = metrics.startRequest('chat');
    let text = await metrics.registry.metrics();
    expect(metricValue(text, 'parley_requests_in_flight', { operation: 'chat' })).toBe(1);
    end('cancelled');
    end('ok');
    text = await metrics.registry.metrics();
    expect(metricValue(text, 'parley_model_loads_total', { model: 'tiny.gguf' })).toBe(1);
    expect(metricValue(text, 'parley_model_loaded', { model: 'tiny.gguf' })).toBe(1);
    expect(metricValue(text, 'parley_requests_in_flight', { operation: 'chat' })).toBe(0);
    expect(metricValue(text, 'parley_request_duration_seconds_count', { outcome: 'cancelled' })).toBe(1);
    expect(metricValue(text, 'parley_request_duration_seconds_count', { outcome: 'ok' })).toBe(0);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('records how long the model took to load', async () => {
    const metrics = new ServiceMetrics('tts');
    metrics.markModelLoaded('voice', 1500);
    expect(metricValue(await metrics.registry.metrics(), METRICS.modelLoadDuration.name, { model: 'voice' })).toBe(1.5);
  });

  it('reads the queue depth, capacity and slots of a concurrency gate at every scrape', async () => {
    const metrics = new ServiceMetrics('llm');
    const gate = metrics.watchConcurrencyGate(new ConcurrencyGate(1, 4));
    let release!: () => void;
    const running = gate.run(() => new Promise<void>((resolve) => (release = resolve)));
    const waiting = gate.run(async () => undefined);
    let text = await metrics.registry.metrics();
    expect(metricValue(text, METRICS.queueDepth.name)).toBe(1);
    expect(metricValue(text, METRICS.queueCapacity.name)).toBe(4);
    expect(metricValue(text, METRICS.engineSlots.name)).toBe(1);
    release();
    await Promise.all([running, waiting]);
    text = await metrics.registry.metrics();
    expect(metricValue(text, METRICS.queueDepth.name)).toBe(0);
  });

  it('registers a metric of the vocabulary once, however often it is asked for', () => {
    const metrics = new ServiceMetrics('llm');
    expect(metrics.counter(METRICS.llmTokens)).toBe(metrics.counter(METRICS.llmTokens));
  });
});

describe('configuration from the environment', () => {
  it('reads integers in range and refuses anything else with the variable named', () => {
    expect(envInt('X', 4, {}, {})).toBe(4);
    expect(envInt('X', 4, {}, { X: '8' })).toBe(8);
    expect(() => envInt('X', 4, { max: 16 }, { X: '32' })).toThrow(/X=32 must be an integer from 1 to 16/);
    expect(() => envInt('X', 4, {}, { X: 'two' })).toThrow(/X=two/);
  });

  it('reads the JetStream bucket replicas (1 unless set, at most 5) for the KV and the object store apart', () => {
    expect(bucketReplicas('kv', {})).toBe(1);
    expect(bucketReplicas('kv', { NATS_KV_REPLICAS: '3' })).toBe(3);
    expect(bucketReplicas('object-store', { NATS_KV_REPLICAS: '3', NATS_OBJECT_STORE_REPLICAS: '2' })).toBe(2);
    expect(() => bucketReplicas('object-store', { NATS_OBJECT_STORE_REPLICAS: '7' })).toThrow(
      /NATS_OBJECT_STORE_REPLICAS=7/,
    );
  });

  it('counts at least one usable CPU and never more than the machine has', () => {
    const cpus = usableCpuCount();
    expect(cpus).toBeGreaterThanOrEqual(1);
    expect(cpus).toBeLessThanOrEqual(availableParallelism());
  });
});
