#!/usr/bin/env node
// Starts the whole Parley system on this machine: a NATS broker (the one at NATS_URL when it
// answers, else a local nats-server), then llm-, stt- and tts-service and the gateway, with
// their logs prefixed. Real models come from ./models (`npm run models -- pull`); without them,
// or with --demo, the tiny generated test models are used (the answers are then nonsense).
//
//   npm start            real models if pulled, else demo models
//   npm start -- --demo  always the generated models
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const demoRequested = process.argv.includes('--demo') || process.env.PARLEY_DEMO === '1';
const natsUrl = process.env.NATS_URL || 'nats://127.0.0.1:4222';
const children = [];
const COLORS = { nats: 90, gateway: 36, llm: 35, stt: 33, tts: 32 };

function log(message) {
  console.log(`\x1b[1m[parley]\x1b[0m ${message}`);
}

function fail(message) {
  console.error(`\x1b[31m[parley] ${message}\x1b[0m`);
  stopAll(1);
}

function run(name, command, args, env = {}) {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `\x1b[${COLORS[name] ?? 37}m${name.padEnd(7)}|\x1b[0m `;
  const relay = (stream, out) => {
    let pending = '';
    stream.on('data', (data) => {
      pending += data.toString();
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) out.write(prefix + line + '\n');
    });
  };
  relay(child.stdout, process.stdout);
  relay(child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    if (!stopping) fail(`${name} exited (${signal ?? `code ${code}`}); stopping everything.`);
  });
  children.push(child);
  return child;
}

let stopping = false;
function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 1500).unref();
  if (children.length === 0) process.exit(code);
}
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

function reachable(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port || 4222), hostname);
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

function which(binary) {
  return spawnSync('sh', ['-c', 'command -v "$0"', binary], { encoding: 'utf8' }).stdout.trim();
}

async function ensureNats() {
  if (await reachable(natsUrl)) return log(`using the NATS server at ${natsUrl}`);
  const binary = process.env.NATS_SERVER_BIN || which('nats-server');
  if (!binary) {
    fail(
      `no NATS server answers at ${natsUrl} and no nats-server binary was found.\n` +
        '  Install one:  sudo apt-get install nats-server   (Debian/Ubuntu)\n' +
        '           or:  brew install nats-server          (macOS)\n' +
        '  or point NATS_URL at a running server (JetStream enabled).',
    );
    return;
  }
  const { port } = new URL(natsUrl);
  const storeDir = join(root, '.cache', 'nats');
  mkdirSync(storeDir, { recursive: true });
  log(`starting ${binary} on port ${port || 4222} with JetStream (data in ${storeDir})`);
  run('nats', binary, ['-a', '127.0.0.1', '-p', String(port || 4222), '-js', '-sd', storeDir]);
  for (let i = 0; i < 50 && !(await reachable(natsUrl)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await reachable(natsUrl))) fail('nats-server did not start');
}

function ensureBuilt() {
  const mains = ['gateway', 'llm-service', 'stt-service', 'tts-service'].map((a) => join(root, 'apps', a, 'dist', 'main.js'));
  if (mains.every(existsSync) && existsSync(join(root, 'packages', 'models', 'dist', 'index.js'))) return;
  log('building (first start)…');
  const result = spawnSync('npx', ['turbo', 'run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) fail('the build failed');
}

async function modelEnvironment() {
  const models = await import(join(root, 'packages', 'models', 'dist', 'index.js'));
  const llm = models.resolveModel('llm');
  const stt = models.resolveModel('stt');
  const voices = models.pulledVoices();
  if (!demoRequested && llm.present && stt.present && voices.length > 0) {
    // The services find the pulled models themselves (PARLEY_MODELS_DIR, default ./models).
    log(`real models: ${llm.entry.id}, ${stt.entry.id}, voices ${voices.map((v) => v.id).join(', ')}`);
    return {};
  }
  if (!demoRequested) {
    log('\x1b[33mno real models found in ./models: starting in DEMO mode with tiny generated models.\x1b[0m');
    log('  For real conversations: npm run models -- pull   (then npm start)');
  }
  const dir = models.fixturesDir();
  const paths = models.fixturePaths(dir);
  log(`DEMO mode: generated test models in ${dir} (their answers and transcripts are nonsense words)`);
  await models.writeTinyGguf(paths.gguf);
  await models.writeTinyWhisperModel(paths.whisper);
  const voice = await models.writeTinyPiperVoice(paths.piperDir);
  const { LANGUAGE_CODES } = await import(join(root, 'packages', 'contracts', 'dist', 'index.js'));
  return {
    PARLEY_DEMO: '1',
    LLM_MODEL_PATH: paths.gguf,
    STT_MODEL_PATH: paths.whisper,
    TTS_VOICES: JSON.stringify([{ id: 'parley-tiny-voice', languages: LANGUAGE_CODES, model: voice.model, tokens: voice.tokens }]),
  };
}

ensureBuilt();
await ensureNats();
const env = { NATS_URL: natsUrl, ...(await modelEnvironment()) };
run('llm', process.execPath, ['apps/llm-service/dist/main.js'], env);
run('stt', process.execPath, ['apps/stt-service/dist/main.js'], env);
run('tts', process.execPath, ['apps/tts-service/dist/main.js'], env);
run('gateway', process.execPath, ['apps/gateway/dist/main.js'], { ...env });
log(`Parley is starting: http://localhost:${process.env.PORT || 8000}  (health: /api/health/models; Ctrl-C stops everything)`);
