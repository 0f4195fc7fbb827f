// The system under test, started as the integration tests start it: a private nats-server and the
// built services as separate processes, on the generated models (or on real ones, see
// docs/benchmarks.md). Also reads each process's resident memory from /proc.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LANGUAGE_CODES } from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { writeTinyWhisperModel } from '@parley/models/fixtures/whisper';
import { freePort, metricValue, spawnService, startNatsServer, waitUntil } from '@parley/service-kit/testing';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const main = (app) => join(REPO, 'apps', app, 'dist', 'main.js');

/** Threads per engine: 1 by default, so that the services do not oversubscribe 2 shared cores. */
export const THREADS = process.env.BENCH_THREADS || '1';

function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed: ${result.error?.message ?? result.stderr}`);
}

/**
 * The models and the spoken input. Generated ones by default; real ones with BENCH_LLM_MODEL,
 * BENCH_STT_MODEL, BENCH_TTS_VOICES (the tts-service's TTS_VOICES JSON), or BENCH_MODELS=pulled
 * for everything `npm run models -- pull` put into ./models.
 */
export async function prepareModels(dir) {
  const pulled = process.env.BENCH_MODELS === 'pulled';
  const { defaultModelsDir, pulledModelPath, pulledVoices } = pulled ? await import('@parley/models') : {};
  const generated = !pulled && !process.env.BENCH_LLM_MODEL;
  const llm =
    process.env.BENCH_LLM_MODEL ||
    (pulled ? pulledModelPath('llm', 'BENCH_LLM_MODEL') : (await writeTinyGguf(join(dir, 'tiny.gguf'))).path);
  // An answer that never ends by itself (throughput, cancel): the generated endless model, or the same real model.
  const llmEndless = generated ? (await writeTinyGguf(join(dir, 'endless.gguf'), { endless: true })).path : llm;
  const stt =
    process.env.BENCH_STT_MODEL ||
    (pulled ? pulledModelPath('stt', 'BENCH_STT_MODEL') : (await writeTinyWhisperModel(join(dir, 'whisper.bin'))).path);
  let ttsVoices =
    process.env.BENCH_TTS_VOICES || (pulled ? JSON.stringify(pulledVoices(defaultModelsDir())) : undefined);
  if (!ttsVoices) {
    const voice = await writeTinyPiperVoice(join(dir, 'voice'));
    ttsVoices = JSON.stringify([
      { id: 'tiny-voice', languages: LANGUAGE_CODES, model: voice.model, tokens: voice.tokens },
    ]);
  }
  const raw = join(dir, 'speech-raw.wav');
  const wav = join(dir, 'speech.wav');
  run('espeak-ng', ['-w', raw, 'Hello! My name is Anna. I would like to practise Spanish with you today.']);
  run('ffmpeg', ['-loglevel', 'error', '-y', '-i', raw, '-ar', '16000', '-ac', '1', '-c:a', 'pcm_s16le', wav]);
  return {
    generated,
    // Longest answer: the generated model ends its own after 18-30 tokens; a real model is capped
    // so that the run stays within minutes (BENCH_MAX_TOKENS).
    maxTokens: Number(process.env.BENCH_MAX_TOKENS || (generated ? 200 : 48)),
    llm,
    llmEndless,
    stt,
    ttsVoices,
    speechWav: wav,
    sizes: {
      llm: statSync(llm).size,
      stt: statSync(stt).size,
      tts: ttsVoices ? JSON.parse(ttsVoices).reduce((sum, v) => sum + statSync(v.model).size, 0) : undefined,
    },
  };
}

/**
 * Resident memory (bytes) of a process and, with `children`, of everything it spawned. `field`:
 * `VmRSS` (all resident pages) or `RssAnon` (anonymous pages only: heaps, what a leak grows;
 * file pages such as memory-mapped models come and go with the machine's memory pressure).
 */
export function rssBytes(pid, { children = false, field = 'VmRSS' } = {}) {
  let total;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    total = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0; // the process has exited
  }
  if (children) {
    let kids;
    try {
      kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      kids = [];
    }
    for (const kid of kids) total += rssBytes(Number(kid), { children: true, field });
  }
  return total;
}

/** CPU time (user + system, ms) a process has used so far; 10 ms resolution (clock ticks). */
export function cpuMs(pid) {
  try {
    // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/**
 * Services on one broker. `start*` spawn them; `close()` stops all. Every service's RSS is
 * sampled every 100 ms while the stack runs: the peak under load is read from those samples.
 */
export class Stack {
  constructor(nats, models) {
    this.nats = nats;
    this.models = models;
    this.services = [];
    this.samples = new Map();
    this.sampler = setInterval(() => this.sample(), 100);
    this.sampler.unref();
  }

  /** Stacks not closed yet (closed all at once when the run is interrupted). */
  static open = new Set();

  static async start(models) {
    const stack = new Stack(await startNatsServer(), models);
    Stack.open.add(stack);
    return stack;
  }

  static closeAll() {
    return Promise.all([...Stack.open].map((stack) => stack.close()));
  }

  sample() {
    for (const s of this.services) {
      if (s.child.exitCode !== null) continue;
      const bytes = rssBytes(s.child.pid, { children: true });
      if (bytes) this.samples.get(s.name)?.push(bytes);
    }
  }

  /** Forgets the samples so far (call before the load whose peak is wanted). */
  resetSamples() {
    for (const name of this.samples.keys()) this.samples.set(name, []);
  }

  pid(name) {
    return this.services.find((x) => x.name === name)?.child.pid;
  }

  rss(name) {
    const s = this.services.find((x) => x.name === name);
    return s ? rssBytes(s.child.pid, { children: true }) : 0;
  }

  spawn(name, app, env) {
    const service = spawnService(name, main(app), { NATS_URL: this.nats.url, LOG_LEVEL: 'warn', ...env });
    this.services.push(service);
    this.samples.set(name, []);
    return service;
  }

  async startLlm(name = 'llm-service', env = {}) {
    const port = await freePort();
    const service = this.spawn(name, 'llm-service', {
      LLM_MODEL_PATH: this.models.llm,
      LLM_THREADS: THREADS,
      LLM_HTTP_PORT: String(port),
      ...env,
    });
    service.metricsUrl = `http://127.0.0.1:${port}/metrics`;
    await waitUntil(
      async () => metricValue(await fetch(service.metricsUrl).then((r) => r.text()), 'parley_model_loaded') === 1,
      `${name} model`,
      120_000,
    ).catch((error) => this.fail(service, error));
    return service;
  }

  async startStt(env = {}) {
    return this.spawn('stt-service', 'stt-service', {
      STT_MODEL_PATH: this.models.stt,
      STT_THREADS: THREADS,
      STT_HTTP_PORT: String(await freePort()),
      ...env,
    });
  }

  async startTts(env = {}) {
    return this.spawn('tts-service', 'tts-service', {
      ...(this.models.ttsVoices ? { TTS_VOICES: this.models.ttsVoices } : {}),
      TTS_THREADS: THREADS,
      TTS_HTTP_PORT: String(await freePort()),
      ...env,
    });
  }

  /** A gateway; resolves when it answers and the services in `needs` report their model loaded. */
  async startGateway(name = 'gateway', env = {}, needs = ['llm']) {
    const port = await freePort();
    const service = this.spawn(name, 'gateway', {
      PORT: String(port),
      // One benchmark client stands for many learners: no per-client rate limit or stream cap.
      RATE_LIMIT_PER_MINUTE: '0',
      MAX_STREAMS_PER_CLIENT: '0',
      LLM_MAX_TOKENS: String(this.models.maxTokens),
      ...env,
    });
    service.url = `http://127.0.0.1:${port}`;
    await waitUntil(
      async () => {
        const body = await fetch(`${service.url}/api/health/models`).then((r) => r.json());
        return needs.every((n) => body.models?.[n] === 'loaded');
      },
      `${name} and the models ${needs.join(', ')}`,
      120_000,
    ).catch((error) => this.fail(service, error));
    return service;
  }

  async stop(service) {
    await service.stop();
    this.services = this.services.filter((s) => s !== service);
  }

  fail(service, error) {
    const logs = this.services.map((s) => `--- ${s.name}\n${s.output().slice(-3000)}`).join('\n');
    throw new Error(`${String(error)}\n${logs}`);
  }

  async close() {
    if (!Stack.open.delete(this)) return;
    clearInterval(this.sampler);
    await Promise.all(this.services.map((s) => s.stop()));
    await this.nats.stop();
  }
}
