#!/usr/bin/env node
// `npm run bench`: every stage of Parley measured against a baseline measured in the same run, on
// the generated models (or real ones: docs/benchmarks.md). Prints markdown tables and writes JSON
// to bench/results/ (git-ignored).
//
//   node bench/run.mjs [--smoke] [--only=relay,first-token,...] [--out=DIR]
//
// --smoke: every section with tiny counts (what the jest test runs); the numbers mean little.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { ChunkStampCollector, LlmNatsClient, postSse, speakStream } from './lib/clients.mjs';
import { markdown, writeResults } from './lib/report.mjs';
import { quantile } from './lib/stats.mjs';
import { prepareModels, REPO, Stack, THREADS } from './lib/system.mjs';
import { cancelToStop } from './sections/cancel.mjs';
import { capacity } from './sections/capacity.mjs';
import { firstToken } from './sections/first-token.mjs';
import { liveConversation } from './sections/live.mjs';
import { memory } from './sections/memory.mjs';
import { relay } from './sections/relay.mjs';
import { speakStreamTimeline } from './sections/speak-stream.mjs';
import { sttResidentVsPerCall } from './sections/stt.mjs';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const outDir = args.find((a) => a.startsWith('--out='))?.slice(6) ?? join(REPO, 'bench', 'results');

const COUNTS = smoke
  ? {
      relaySingle: 3,
      relayRounds: 1,
      firstToken: 2,
      speak: 2,
      sentences: [1, 2],
      sentenceRuns: 2,
      stt: 2,
      rampLevels: [1, 4],
      openLevels: [10],
      throughputTokens: 32,
      throughputRounds: 1,
      cancel: 3,
      live: 2,
    }
  : {
      relaySingle: 40,
      relayRounds: 4,
      firstToken: 30,
      speak: 20,
      sentences: [1, 2, 3, 4, 5, 6],
      sentenceRuns: 15,
      stt: 20,
      rampLevels: [1, 8, 16, 18, 19, 24, 32],
      openLevels: [50, 100, 200],
      throughputTokens: 256,
      throughputRounds: 5,
      cancel: 30,
      live: 10,
    };

for (const app of ['gateway', 'llm-service', 'stt-service', 'tts-service']) {
  if (!existsSync(join(REPO, 'apps', app, 'dist', 'main.js'))) {
    console.error(`apps/${app} is not built: run \`npx turbo run build\` first`);
    process.exit(1);
  }
}
Logger.overrideLogger(['error']);

const git = (...a) => {
  try {
    return execFileSync('git', a, { cwd: REPO, encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
};
const startedAt = new Date();
const t0 = performance.now();
const results = {
  meta: {
    started_at: startedAt.toISOString(),
    smoke,
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model,
      memory_gb: +(totalmem() / 2 ** 30).toFixed(1),
      load_average_at_start: loadavg(),
      node: process.version,
      platform: process.platform,
    },
    commit: git('rev-parse', '--short', 'HEAD'),
    threads_per_engine: Number(THREADS),
    counts: COUNTS,
  },
  sections: {},
};
const log = (text) => console.error(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${text}`);

const work = await mkdtemp(join(tmpdir(), 'parley-bench-'));
let stack;
let llmClient;
let stamps;
const stopAll = async () => {
  await llmClient?.close();
  await stamps?.close();
  await Stack.closeAll();
  await rm(work, { recursive: true, force: true });
};
// Interrupted (Ctrl-C, a test's timeout): stop the services before leaving.
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void stopAll().finally(() => process.exit(130)));
try {
  log('models and speech');
  const models = await prepareModels(work);
  results.meta.models = { generated: models.generated, llm: models.llm, stt: models.stt, bytes: models.sizes };
  stack = await Stack.start(models);
  stamps = await ChunkStampCollector.start(stack.nats.url);
  log('starting nats-server, llm-, stt-, tts-service and a gateway');
  await Promise.all([
    stack.startLlm('llm-service', { LLM_BENCH_STAMP_SUBJECT: stamps.subject, LLM_MAX_QUEUED: '64' }),
    stack.startStt(),
    stack.startTts(),
  ]);
  const gateway = await stack.startGateway('gateway', {}, ['llm', 'stt', 'tts']);
  llmClient = new LlmNatsClient(stack.nats.url);
  // Warm-up: first connections, first turn, first transcription.
  await postSse(`${gateway.url}/api/conversation/text-stream`, {
    message: 'Hola',
    language: 'es',
    difficulty: 'advanced',
    scenario: 'greeting',
    tts: true,
  });
  await speakStream(gateway.url, models.speechWav, { language: 'es', difficulty: 'advanced', scenario: 'greeting' });
  // Idle memory: the median of 1 s of samples once the warm-up is over.
  await new Promise((resolve) => setTimeout(resolve, 500));
  stack.resetSamples();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idle = Object.fromEntries(
    ['gateway', 'llm-service', 'stt-service', 'tts-service'].map((name) => [
      name,
      quantile(stack.samples.get(name), 0.5),
    ]),
  );
  stack.resetSamples();

  const context = { stack, gateway, llmClient, stamps, models, counts: COUNTS, work };
  const sections = [
    ['relay', () => relay(context)],
    ['first-token', () => firstToken(context)],
    ['speak-stream', () => speakStreamTimeline(context)],
    ['live', () => liveConversation(context)],
    ['stt', () => sttResidentVsPerCall(context)],
    ['capacity', () => capacity(context)],
    ['memory', () => memory({ ...context, idle })],
    ['cancel', () => cancelToStop(context)],
  ];
  for (const [name, measure] of sections) {
    if (only && !only.includes(name)) continue;
    log(name);
    results.sections[name] = await measure();
  }
} finally {
  await stopAll();
}
results.meta.load_average_at_end = loadavg();
results.meta.duration_s = +((performance.now() - t0) / 1000).toFixed(1);
const m = results.meta;
console.log(`## Parley benchmark${smoke ? ' (smoke run: tiny counts, numbers mean little)' : ''}\n`);
console.log(
  `${m.started_at}, commit ${m.commit}, ${m.machine.cpus} × ${m.machine.cpu_model}, ${m.machine.memory_gb} GB, node ${m.machine.node}, ` +
    `load average ${m.machine.load_average_at_start.map((l) => l.toFixed(1)).join('/')} at start, ${m.load_average_at_end.map((l) => l.toFixed(1)).join('/')} at end; ` +
    `${m.models.generated ? 'generated tiny models' : `models ${m.models.llm}, ${m.models.stt}`}; ${m.threads_per_engine} thread(s) per engine; ${m.duration_s} s\n`,
);
console.log(markdown(results));
console.log(`JSON: ${writeResults(outDir, results)}`);
