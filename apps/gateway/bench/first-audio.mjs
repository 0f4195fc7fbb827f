#!/usr/bin/env node
// Benchmark (not a test): time to the first sound of an answer, sentence-pipelined speech vs the
// replaced system's way ("synthesize after complete": generate the whole answer, then synthesize
// it in a second request), side by side in one run, over answers of 1-6 sentences.
//
// Real engines and broker on generated models: a private nats-server, llm-service (tiny GGUF whose
// answer is 6 sentences; LLM_MAX_TOKENS cuts it to k sentences), tts-service (tiny Piper voice),
// and a gateway per k.   Usage: node apps/gateway/bench/first-audio.mjs [runs=20]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LANGUAGE_CODES } from '@parley/contracts';
import { tinyGgufExpectedReply, writeTinyGguf } from '@parley/models/fixtures/gguf';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { freePort, spawnService, startNatsServer, waitUntil } from '@parley/service-kit/testing';

const runs = Number(process.argv[2] ?? 20);
const app = (name) => fileURLToPath(new URL(`../../${name}/dist/main.js`, import.meta.url));
const TURN = { message: 'Hola', language: 'es', difficulty: 'advanced', scenario: 'greeting' };

/** Tokens of the tiny model's answer up to the end of its k-th sentence (one token per word piece). */
function tokensFor(k) {
  const words = tinyGgufExpectedReply().split(/\s+/);
  let sentences = 0;
  for (let i = 0; i < words.length; i++) if (/[.!?]$/.test(words[i]) && ++sentences === k) return i + 1;
  return words.length;
}

async function sse(url, body, onEvent) {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event) onEvent(event, JSON.parse(data));
    }
  }
}

/** Pipelined: the first `audio` event of a text-stream with tts. */
async function pipelined(base) {
  const t0 = performance.now();
  let firstAudio, complete, sentences = 0;
  await sse(`${base}/api/conversation/text-stream`, { ...TURN, tts: true }, (event) => {
    if (event === 'audio') { firstAudio ??= performance.now() - t0; sentences++; }
    if (event === 'complete') complete = performance.now() - t0;
  });
  return { firstAudio, complete, sentences };
}

/** Baseline: the whole answer first, then one synthesize request for all of it. */
async function synthesizeAfterComplete(base) {
  const t0 = performance.now();
  let full, complete;
  await sse(`${base}/api/conversation/text-stream`, TURN, (event, data) => {
    if (event === 'complete') { complete = performance.now() - t0; full = data.full_response; }
  });
  const res = await fetch(`${base}/api/conversation/synthesize`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: full, language: 'es' }),
  });
  await res.arrayBuffer();
  return { firstAudio: performance.now() - t0, complete };
}

const quantile = (values, q) => { const s = [...values].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]; };
const ms = (v) => v.toFixed(1).padStart(8);

const nats = await startNatsServer();
const dir = await mkdtemp(join(tmpdir(), 'parley-bench-'));
const services = [];
try {
  const gguf = await writeTinyGguf(join(dir, 'tiny.gguf'));
  const voice = await writeTinyPiperVoice(join(dir, 'voice'));
  services.push(spawnService('llm', app('llm-service'), { NATS_URL: nats.url, LLM_MODEL_PATH: gguf.path, LLM_THREADS: '1', LLM_HTTP_PORT: String(await freePort()), LOG_LEVEL: 'warn' }));
  services.push(spawnService('tts', app('tts-service'), {
    NATS_URL: nats.url, TTS_THREADS: '1', TTS_HTTP_PORT: String(await freePort()), LOG_LEVEL: 'warn',
    TTS_VOICES: JSON.stringify([{ id: 'tiny', languages: LANGUAGE_CODES, model: voice.model, tokens: voice.tokens }]),
  }));
  console.log(`first sound: sentence-pipelined vs synthesize-after-complete, ${runs} runs each, tiny generated models\n`);
  console.log('sentences | pipelined first audio p50   p99 | complete p50 | baseline first audio p50   p99 | ratio (baseline/pipelined p50)');
  for (let k = 1; k <= 6; k++) {
    const port = await freePort();
    const gateway = spawnService('gateway', app('gateway'), { NATS_URL: nats.url, PORT: String(port), LLM_MAX_TOKENS: String(tokensFor(k)), LOG_LEVEL: 'warn' });
    services.push(gateway);
    const base = `http://127.0.0.1:${port}`;
    await waitUntil(async () => {
      const res = await fetch(`${base}/api/health/models`).catch(() => undefined);
      const body = res && (await res.json());
      return body?.models?.llm === 'loaded' && body?.models?.tts === 'loaded';
    }, 'the models', 60_000);
    for (let i = 0; i < 3; i++) { await pipelined(base); await synthesizeAfterComplete(base); } // warm-up
    const p = [], b = [];
    for (let i = 0; i < runs; i++) { p.push(await pipelined(base)); b.push(await synthesizeAfterComplete(base)); }
    const pf = p.map((r) => r.firstAudio), pc = p.map((r) => r.complete), bf = b.map((r) => r.firstAudio);
    console.log(
      `${String(p[0].sentences).padStart(9)} | ${ms(quantile(pf, 0.5))} ${ms(quantile(pf, 0.99))}         | ${ms(quantile(pc, 0.5))}     | ${ms(quantile(bf, 0.5))} ${ms(quantile(bf, 0.99))}         | ${(quantile(bf, 0.5) / quantile(pf, 0.5)).toFixed(2)}x`,
    );
    await gateway.stop();
  }
  console.log('\n(ms; "complete" is when the pipelined stream\'s last event arrived, all audio included)');
} finally {
  await Promise.all(services.map((s) => s.stop()));
  await nats.stop();
  await rm(dir, { recursive: true, force: true });
}
