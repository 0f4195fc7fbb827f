// (5) STT resident vs per call: POST /api/conversation/transcribe (gateway → object store → NATS
// → stt-service → its resident whisper-server) vs nodejs-whisper's nodewhisper() (spawns
// whisper-cli through a shell, loads the model every call), same model, same WAV, interleaved.
// This folds in the former apps/stt-service/bench/resident-vs-nodewhisper.mjs.
//
// How nodewhisper is made to use OUR model and binary without touching node_modules:
// - it resolves whisper.cpp as <its dist>/../cpp/whisper.cpp and looks for build/bin/whisper-cli
//   there (if missing it runs cmake INSIDE node_modules). We copy its dist/ and package.json into
//   <repo>/.cache/nodejs-whisper-bench/nodejs-whisper/ (under the repo, so its requires still
//   resolve from the root node_modules) and symlink whisper-cli to the one built by
//   apps/stt-service/scripts/build-whisper-server.mjs;
// - it only accepts known model names and reads `modelRootPath/ggml-<name>.bin`: we symlink our
//   model as ggml-tiny.bin in a temp dir;
// - it `cd`s the whole process into its folder while whisper-cli runs: cwd is restored after each call.
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { figure } from '../lib/report.mjs';
import { REPO, THREADS } from '../lib/system.mjs';

async function nodewhisperCaller(models, work) {
  const { buildWhisperServer } = await import(
    pathToFileURL(join(REPO, 'apps/stt-service/scripts/build-whisper-server.mjs')).href
  );
  const bins = await buildWhisperServer();
  const shadowRoot = join(REPO, '.cache', 'nodejs-whisper-bench');
  rmSync(shadowRoot, { recursive: true, force: true });
  const require = createRequire(join(REPO, 'package.json'));
  const pkgDir = dirname(require.resolve('nodejs-whisper/package.json'));
  const shadow = join(shadowRoot, 'nodejs-whisper');
  cpSync(join(pkgDir, 'dist'), join(shadow, 'dist'), { recursive: true });
  cpSync(join(pkgDir, 'package.json'), join(shadow, 'package.json'));
  mkdirSync(join(shadow, 'cpp', 'whisper.cpp', 'build', 'bin'), { recursive: true });
  symlinkSync(bins.cli, join(shadow, 'cpp', 'whisper.cpp', 'build', 'bin', 'whisper-cli'));
  const modelRoot = join(work, 'nodewhisper-models');
  mkdirSync(modelRoot, { recursive: true });
  symlinkSync(resolve(models.stt), join(modelRoot, 'ggml-tiny.bin'));
  const { nodewhisper } = require(join(shadow, 'dist', 'index.js'));
  const quiet = { debug() {}, log() {}, info() {}, warn() {}, error: (...a) => console.error('[nodewhisper]', ...a) };
  const cwd = process.cwd();
  return {
    async transcribeMs() {
      const t0 = performance.now();
      try {
        const text = await nodewhisper(models.speechWav, {
          modelName: 'tiny',
          modelRootPath: modelRoot,
          logger: quiet,
          whisperOptions: { language: 'en' },
        });
        if (!String(text).trim()) throw new Error('nodewhisper returned nothing');
      } finally {
        process.chdir(cwd);
      }
      return performance.now() - t0;
    },
    cleanup: () => rmSync(shadowRoot, { recursive: true, force: true }),
  };
}

async function transcribeMs(base, wav) {
  const form = new FormData();
  form.append('audio', new Blob([readFileSync(wav)]), 'speech.wav');
  form.append('language', 'en');
  const t0 = performance.now();
  const res = await fetch(`${base}/api/conversation/transcribe`, { method: 'POST', body: form });
  const body = await res.json();
  if (!res.ok || !body.text) throw new Error(`transcribe answered ${res.status}: ${JSON.stringify(body)}`);
  return performance.now() - t0;
}

export async function sttResidentVsPerCall({ gateway, models, counts, work }) {
  const perCall = await nodewhisperCaller(models, work);
  const resident = [];
  const spawned = [];
  try {
    await transcribeMs(gateway.url, models.speechWav); // warm-up (page cache, first connection)
    await perCall.transcribeMs();
    for (let i = 0; i < counts.stt; i++) {
      resident.push(await transcribeMs(gateway.url, models.speechWav));
      spawned.push(await perCall.transcribeMs());
    }
  } finally {
    perCall.cleanup();
  }
  const audioSeconds = (readFileSync(models.speechWav).length - 44) / 32000;
  return {
    title: '5. STT: resident whisper-server vs nodewhisper() per call',
    setup: `same model and ${audioSeconds.toFixed(1)} s WAV, stt-service ${THREADS} thread(s) (whisper-cli picks its own: min(4, cores)), interleaved; ratio < 1: the resident service is faster`,
    rows: [
      figure('POST /api/conversation/transcribe (resident, through gateway and NATS)', 'ms', resident, {
        baseline: { name: 'nodewhisper() in-process (whisper-cli per call)', samples: spawned },
      }),
    ],
  };
}
