#!/usr/bin/env node
// The capacity model of docs/benchmarks.md, computed from a bench result (default: the latest)
// so that an operator can redo it with figures measured on their own hardware and models.
//
//   node bench/capacity-model.mjs [results.json] [--turn-seconds=20] [--utilization=0.6] [--sentences=2]
//        [--speech-seconds=4] [--partial-every=0.5] [--learners=10,100,1000]
//        [--llm-tokens-per-s=N] [--answer-tokens=N] [--stt-ms=N] [--tts-ms=N] [--gateway-cpu-ms=N]
//
// Every --x overrides the measured figure it names (e.g. a real model's tokens/s measured elsewhere).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
};
const file =
  args.find((a) => !a.startsWith('--')) ?? join(fileURLToPath(new URL('.', import.meta.url)), 'results', 'latest.json');
const results = JSON.parse(readFileSync(file, 'utf8'));

/** The p50 of the first row of `section` whose figure starts with `prefix` (or its baseline's). */
function measured(section, prefix, { baseline = false, field = 'p50' } = {}) {
  const row = results.sections[section]?.rows.find((r) => r.figure.startsWith(prefix));
  const value = baseline ? row?.baseline?.[field] : row?.[field];
  if (value === undefined)
    throw new Error(`${file} has no "${prefix}" in section ${section}: run the full bench (npm run bench)`);
  return value;
}

/** A model input: the flag when given, else the measured figure; with where it came from. */
function input(name, flagName, measure, unit) {
  const given = flag(flagName);
  return given !== undefined
    ? { name, value: Number(given), unit, source: `--${flagName}` }
    : { name, value: measure(), unit, source: 'measured' };
}

const openLevel = Math.max(...(results.meta.counts?.openLevels ?? [200]));
const inputs = {
  llm: input(
    'LLM throughput per llm-service (2 sequences, all busy)',
    'llm-tokens-per-s',
    () => measured('capacity', 'LLM throughput, 2 parallel'),
    'tokens/s',
  ),
  answer: input('tokens per answer', 'answer-tokens', () => measured('relay', 'chunks (tokens) per answer'), 'tokens'),
  stt: input(
    'transcription per utterance (whisper-server busy, upper bound)',
    'stt-ms',
    () => measured('stt', 'POST /api/conversation/transcribe'),
    'ms',
  ),
  tts: input(
    'synthesis per sentence',
    'tts-ms',
    () => measured('speak-stream', 'POST /api/conversation/synthesize'),
    'ms',
  ),
  gatewayCpu: input(
    'gateway CPU per turn',
    'gateway-cpu-ms',
    () => measured('capacity', `gateway CPU per text turn (${openLevel} at once)`),
    'CPU ms',
  ),
  gatewayMb: input(
    'gateway memory per open stream',
    'gateway-mb-per-stream',
    () =>
      (measured('capacity', `gateway RSS with ${openLevel}`) -
        measured('capacity', `gateway RSS with ${openLevel}`, { baseline: true })) /
      openLevel,
    'MB',
  ),
  turnMs: input(
    'a spoken turn, upload to complete (how long its stream stays open)',
    'turn-ms',
    () => measured('speak-stream', '→ complete'),
    'ms',
  ),
};
const turnSeconds = Number(flag('turn-seconds', 20));
const utilization = Number(flag('utilization', 0.6));
const sentences = Number(flag('sentences', 2));
const speechSeconds = Number(flag('speech-seconds', 4));
const partialEvery = Number(flag('partial-every', 0.5));
const learners = flag('learners', '10,100,1000').split(',').map(Number);

const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
console.log(`## Capacity model from ${file}\n`);
console.log(
  `Measured ${results.meta.started_at} on ${results.meta.machine.cpus} × ${results.meta.machine.cpu_model}, ` +
    `${results.meta.models?.generated ? 'generated tiny models' : `models ${results.meta.models?.llm}`}.\n`,
);
console.log('| input | value | source |\n|---|---|---|');
for (const i of Object.values(inputs)) console.log(`| ${i.name} | ${fmt(i.value)} ${i.unit} | ${i.source} |`);
console.log(`| a learner's turn every | ${turnSeconds} s | --turn-seconds |`);
console.log(`| target utilisation of every engine | ${utilization} | --utilization |`);
console.log(`| sentences per answer | ${sentences} | --sentences |`);
console.log(
  `| live: speech per utterance, partial transcription every | ${speechSeconds} s, ${partialEvery} s | --speech-seconds, --partial-every |\n`,
);

// Learners one unit of each resource carries at the target utilisation.
const perLlmReplica = (utilization * inputs.llm.value * turnSeconds) / inputs.answer.value;
const perWhisper = (live) =>
  (utilization * turnSeconds * 1000) / (inputs.stt.value * (live ? 1 + speechSeconds / partialEvery : 1));
const perTtsSlot = (utilization * turnSeconds * 1000) / (sentences * inputs.tts.value);
const perGatewayCore = (utilization * turnSeconds * 1000) / inputs.gatewayCpu.value;

console.log(
  '| learners | mode | turns/s | llm-service replicas | whisper-servers | tts slots | gateway cores (+ memory) | gateway replicas (1 core) | NATS msgs/s | saturates first |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const n of learners) {
  for (const live of [false, true]) {
    const turnsPerS = n / turnSeconds;
    const need = {
      'llm-service': n / perLlmReplica,
      'whisper-server': n / perWhisper(live),
      'tts slot': n / perTtsSlot,
      'gateway core': n / perGatewayCore,
    };
    const first = Object.entries(need).sort((a, b) => b[1] - a[1])[0][0];
    // Each unit rounded up; two of each for availability. Gateway memory: open streams (turn-based)
    // or one socket per learner (live) at the measured per-stream memory.
    const units = (x) => Math.max(2, Math.ceil(x));
    const gatewayMb = (live ? n : turnsPerS * (inputs.turnMs.value / 1000)) * inputs.gatewayMb.value;
    const natsMsgs =
      turnsPerS * (inputs.answer.value + sentences + 6) + (live ? n * (speechSeconds / turnSeconds) * 20 : 0);
    console.log(
      `| ${n} | ${live ? 'live' : 'turn-based'} | ${fmt(turnsPerS)} | ${units(need['llm-service'])} | ${units(need['whisper-server'])} | ${units(need['tts slot'])} | ` +
        `${fmt(need['gateway core'])} (+${fmt(gatewayMb)} MB) | ${units(need['gateway core'])} | ${fmt(natsMsgs)} | ${first} |`,
    );
  }
}
console.log(
  `\nOne unit carries (learners): llm-service ${fmt(perLlmReplica)}, whisper-server ${fmt(perWhisper(false))} turn-based / ${fmt(perWhisper(true))} live, ` +
    `tts slot ${fmt(perTtsSlot)}, gateway core ${fmt(perGatewayCore)}.`,
);
// Turn-based, the llm-service saturates before whisper when one replica writes fewer tokens per
// second than answer tokens per second of transcription.
console.log(
  `The llm-service saturates before the whisper-servers (turn-based) below ${fmt(inputs.answer.value / (inputs.stt.value / 1000))} tokens/s per replica ` +
    `(answer tokens ÷ transcription seconds).`,
);
