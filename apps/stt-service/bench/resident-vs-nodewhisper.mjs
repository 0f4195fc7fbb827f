#!/usr/bin/env node
// Per-request time: the resident engine (WhisperServerEngine: one whisper-server child, model loaded
// once) vs nodejs-whisper's nodewhisper() (spawns whisper-cli through a shell, loads the model every
// call), same model, same 16 kHz WAV, same thread count, runs interleaved.
//
//   npm run build -w @parley/stt-service && npm run bench -w @parley/stt-service
//   BENCH_RUNS=30 STT_MODEL_PATH=/path/to/ggml-base.bin npm run bench -w @parley/stt-service
//
// Env: BENCH_RUNS (default 20), STT_MODEL_PATH (default: the generated tiny fixture model),
//      BENCH_LANGUAGE (default en), STT_THREADS (default: usable CPUs; whisper-cli uses min(4, cores)).
//
// How nodewhisper is made to use OUR model and binary without touching node_modules:
// - nodejs-whisper resolves whisper.cpp as <its dist>/../cpp/whisper.cpp and looks for
//   build/bin/whisper-cli there; if missing it runs `cmake` + `cmake --build` INSIDE node_modules.
//   We copy its dist/ and package.json into <repo>/.cache/nodejs-whisper-bench/nodejs-whisper/ (under
//   the repo, so `require('shelljs')` still resolves from the root node_modules) and symlink
//   cpp/whisper.cpp/build/bin/whisper-cli to the whisper-cli built by scripts/build-whisper-server.mjs.
// - It only accepts known model names and resolves `modelRootPath/ggml-<name>.bin`: we symlink our
//   model file as ggml-tiny.bin in a temp dir and pass { modelName: 'tiny', modelRootPath }.
// - It `cd`s the whole process into its folder while whisper-cli runs; we restore cwd after each call.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const APP = resolve(here, '..');
const REPO = resolve(APP, '..', '..');
const RUNS = Number(process.env.BENCH_RUNS || 20);
const LANGUAGE = process.env.BENCH_LANGUAGE || 'en';

const dist = (p) => pathToFileURL(join(APP, 'dist', p)).href;
if (!existsSync(join(APP, 'dist', 'engine', 'whisper-server.engine.js'))) {
  console.error('build first: npx turbo run build --filter=@parley/stt-service...');
  process.exit(1);
}
const { Logger } = await import('@nestjs/common');
Logger.overrideLogger(['error', 'warn']);
const { WhisperServerEngine } = await import(dist('engine/whisper-server.engine.js'));
const { decodeAudio } = await import(dist('audio/index.js'));
const { usableCpuCount } = await import('@parley/service-kit');
const { buildWhisperServer } = await import(pathToFileURL(join(APP, 'scripts', 'build-whisper-server.mjs')).href);

function run(cmd, args) {
  const res = spawnSync(cmd, args, { encoding: 'utf8' });
  if (res.error || res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${res.error?.message ?? res.stderr}`);
  return res.stdout;
}

const work = mkdtempSync(join(tmpdir(), 'parley-stt-bench-'));
const shadowRoot = join(REPO, '.cache', 'nodejs-whisper-bench');
try {
  const bins = await buildWhisperServer();
  let modelPath = process.env.STT_MODEL_PATH;
  if (!modelPath) {
    const { writeTinyWhisperModel } = await import('@parley/models/fixtures/whisper');
    modelPath = (await writeTinyWhisperModel(join(work, 'tiny-whisper.bin'), { seed: 1 })).path;
  }
  const wav = join(work, 'speech.wav');
  run('espeak-ng', ['-w', join(work, 'raw.wav'), 'Hello, how are you today? I would like a cup of coffee, please.']);
  run('ffmpeg', ['-loglevel', 'error', '-y', '-i', join(work, 'raw.wav'), '-ar', '16000', '-ac', '1', '-c:a', 'pcm_s16le', wav]);
  const threads = Number(process.env.STT_THREADS || usableCpuCount());

  // --- nodewhisper, pointed at our model and our whisper-cli (see header)
  rmSync(shadowRoot, { recursive: true, force: true });
  const pkgDir = dirname(createRequire(import.meta.url).resolve('nodejs-whisper/package.json'));
  const shadow = join(shadowRoot, 'nodejs-whisper');
  cpSync(join(pkgDir, 'dist'), join(shadow, 'dist'), { recursive: true });
  cpSync(join(pkgDir, 'package.json'), join(shadow, 'package.json'));
  mkdirSync(join(shadow, 'cpp', 'whisper.cpp', 'build', 'bin'), { recursive: true });
  symlinkSync(bins.cli, join(shadow, 'cpp', 'whisper.cpp', 'build', 'bin', 'whisper-cli'));
  const modelRoot = join(work, 'nodewhisper-models');
  mkdirSync(modelRoot);
  symlinkSync(resolve(modelPath), join(modelRoot, 'ggml-tiny.bin'));
  const { nodewhisper } = createRequire(import.meta.url)(join(shadow, 'dist', 'index.js'));
  const quiet = { debug() {}, log() {}, info() {}, warn() {}, error: (...a) => console.error('[nodewhisper]', ...a) };
  const cwd = process.cwd();
  const viaNodewhisper = async () => {
    try {
      const text = await nodewhisper(wav, { modelName: 'tiny', modelRootPath: modelRoot, logger: quiet, whisperOptions: { language: LANGUAGE } });
      if (!String(text).trim()) throw new Error('nodewhisper returned nothing');
    } finally {
      process.chdir(cwd);
    }
  };

  // --- resident engine (what the service runs per request, minus NATS and the object store)
  const engine = new WhisperServerEngine({
    modelPath,
    serverBinary: bins.server,
    servers: 1,
    threads,
    requestTimeoutMs: 120_000,
    startTimeoutMs: 120_000,
    languageProbabilities: true,
  });
  const loadStart = performance.now();
  await engine.load();
  const loadMs = performance.now() - loadStart;
  const bytes = new Uint8Array(readFileSync(wav));
  const viaResident = (language) => async () => {
    const audio = await decodeAudio(bytes, { maxSeconds: 120, ffmpegPath: 'ffmpeg', ffmpegTimeoutMs: 60_000 });
    const result = await engine.transcribe({ samples: audio.samples, language }, new AbortController().signal);
    if (!result.text) throw new Error('resident engine returned nothing');
  };

  const contenders = [
    { name: `resident whisper-server (language=${LANGUAGE})`, fn: viaResident(LANGUAGE), times: [] },
    { name: 'resident whisper-server (language=auto + probability)', fn: viaResident('auto'), times: [] },
    { name: `nodewhisper() → whisper-cli (language=${LANGUAGE})`, fn: viaNodewhisper, times: [] },
  ];
  for (const c of contenders) await c.fn(); // warm-up (page cache, first connection)
  for (let i = 0; i < RUNS; i++) {
    for (const c of contenders) {
      const t = performance.now();
      await c.fn();
      c.times.push(performance.now() - t);
    }
  }
  await engine.onApplicationShutdown();

  const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  const rows = contenders.map((c) => {
    const s = [...c.times].sort((a, b) => a - b);
    return { name: c.name, median: pct(s, 50), p99: pct(s, 99), mean: s.reduce((a, b) => a + b, 0) / s.length };
  });
  const base = rows[0].median;
  const audioSeconds = (bytes.length - 44) / 32000;
  console.log(`\nmodel ${modelPath} (${(readFileSync(modelPath).length / 1e6).toFixed(1)} MB), audio ${audioSeconds.toFixed(2)} s, ` +
    `${threads} threads, ${RUNS} runs each (interleaved), node ${process.version}; resident load ${loadMs.toFixed(0)} ms (once)\n`);
  const pad = (s, n) => String(s).padEnd(n);
  const num = (n) => n.toFixed(1).padStart(9);
  console.log(`${pad('engine', 58)}${'median ms'.padStart(9)}${'p99 ms'.padStart(9)}${'mean ms'.padStart(9)}  vs resident`);
  for (const r of rows) console.log(`${pad(r.name, 58)}${num(r.median)}${num(r.p99)}${num(r.mean)}  ${(r.median / base).toFixed(1)}×`);
  console.log(`\nJSON ${JSON.stringify({ runs: RUNS, threads, audioSeconds, loadMs, rows })}`);
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(shadowRoot, { recursive: true, force: true });
}
