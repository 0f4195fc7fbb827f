#!/usr/bin/env node
// Benchmark (not a test): how soon generation stops after a caller cancels, measured inside the
// llm-service (parley_cancel_to_stop_seconds: from the cancel to node-llama-cpp having stopped),
// plus the caller-side time from cancel to the service's in-flight gauge reaching 0.
// Real llm-service and NATS, a generated endless tiny model.   Usage: node bench/cancel-latency.mjs [runs=50]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { SUBJECTS, chatStreamMessageSchema } from '@parley/contracts';
import { replyParser, streamRequest } from '@parley/service-kit';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { freePort, metricValue, spawnService, startNatsServer, waitUntil } from '@parley/service-kit/testing';

const runs = Number(process.argv[2] ?? 50);
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const nats = await startNatsServer();
const dir = await mkdtemp(join(tmpdir(), 'parley-cancel-'));
const port = await freePort();
const gguf = await writeTinyGguf(join(dir, 'endless.gguf'), { endless: true });
const service = spawnService('llm', main, { NATS_URL: nats.url, LLM_MODEL_PATH: gguf.path, LLM_THREADS: '1', LLM_HTTP_PORT: String(port), LOG_LEVEL: 'warn' });
const client = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: nats.url } });
const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
try {
  await waitUntil(async () => metricValue(await metrics(), 'parley_model_loaded') === 1, 'the model', 30_000);
  const callerMs = [];
  for (let i = 0; i < runs; i++) {
    const request = { request_id: `bench${i}`.padEnd(12, 'x'), messages: [{ role: 'user', content: 'Hola' }], max_tokens: 2048 };
    await new Promise((resolve) => {
      let chunks = 0;
      const subscription = streamRequest(client, request, {
        service: 'llm', subject: SUBJECTS.llm.chat, parse: replyParser(chatStreamMessageSchema, 'llm'), firstReplyTimeoutMs: 10_000, idleTimeoutMs: 10_000,
      }).subscribe((message) => {
        if (message.type === 'chunk' && ++chunks === 10) {
          const cancelledAt = performance.now();
          subscription.unsubscribe(); // publishes the cancel
          void waitUntil(async () => metricValue(await metrics(), 'parley_requests_in_flight', { operation: 'chat' }) === 0, 'stop', 5000, 1)
            .then(() => callerMs.push(performance.now() - cancelledAt))
            .then(resolve);
        }
      });
    });
  }
  const text = await metrics();
  const count = metricValue(text, 'parley_cancel_to_stop_seconds_count');
  const sum = metricValue(text, 'parley_cancel_to_stop_seconds_sum');
  const buckets = text.split('\n').filter((l) => l.startsWith('parley_cancel_to_stop_seconds_bucket'))
    .map((l) => ({ le: /le="([^"]+)"/.exec(l)[1], n: Number(l.split(' ').at(-1)) }));
  const quantileBucket = (q) => buckets.find((b) => b.n >= q * count)?.le;
  const sorted = [...callerMs].sort((a, b) => a - b);
  const pick = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)].toFixed(1);
  console.log(`cancel → generation stopped, ${runs} cancels after the 10th token (tiny endless model, 1 thread)`);
  console.log(`  inside the service: mean ${((sum / count) * 1000).toFixed(2)} ms, p50 ≤ ${quantileBucket(0.5)} s, p99 ≤ ${quantileBucket(0.99)} s (histogram buckets)`);
  console.log(`  seen by the caller (cancel → in-flight 0, incl. polling /metrics): p50 ${pick(0.5)} ms, p99 ${pick(0.99)} ms`);
} finally {
  await client.close();
  await service.stop();
  await nats.stop();
  await rm(dir, { recursive: true, force: true });
}
