#!/usr/bin/env node
// `npm run soak`: many conversation turns one after another (issue 12, item 5), each a spoken
// turn through every service (speak-stream: stt → llm → tts), while the resident memory of each
// service is sampled (all of it, and its anonymous part: heaps, where a leak grows; file pages
// such as memory-mapped models come and go with the machine's memory pressure). After a warm-up
// (caches, JIT, allocator pools fill), a service that does not leak stops growing: the
// least-squares slope of its anonymous RSS over the turns, in KiB per 100 turns, says so. The
// verdict reads the slope of the peaks (the highest sample of each fifth of the run after the
// warm-up): garbage collection makes RSS a saw-tooth whose dips say nothing, while a leak raises
// every peak above the one before.
// Rate limit and per-client stream cap are off for the run (one client, many turns).
//
//   node bench/soak.mjs [--turns=1000] [--warmup=<10% of turns, at least 10>] [--max-slope-kib=1024]
//
// The report goes to stdout, ending with one `SOAK-RESULT {json}` line. Exit code 1 when a turn
// failed; the memory verdict is reported, not enforced (few turns make a noisy slope).
import { outcome, speakStream } from './lib/clients.mjs';
import { rssBytes } from './lib/system.mjs';
import { mib, numberArg, progressLog, withStack } from './lib/script-run.mjs';

const TURNS = Math.round(numberArg('turns', 1000));
const WARMUP = Math.round(numberArg('warmup', Math.max(10, Math.round(TURNS / 10))));
const MAX_SLOPE_KIB = numberArg('max-slope-kib', 1024);
/** The run after the warm-up is cut into this many windows; the verdict reads their peaks. */
const WINDOWS = 5;
/** RSS samples: about 50 over the run. */
const SAMPLE_EVERY = Math.max(1, Math.floor(TURNS / 50));
const SERVICES = ['gateway', 'llm-service', 'stt-service', 'tts-service'];
const RAISED = { RATE_LIMIT_PER_MINUTE: '0', MAX_STREAMS_PER_CLIENT: '0' };
const TURN = { language: 'es', difficulty: 'advanced', scenario: 'greeting' };
const log = progressLog('soak');

/** Least-squares slope of y over x (undefined with fewer than 2 distinct x). */
export function slope(points) {
  const n = points.length;
  if (n < 2) return undefined;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  return points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx;
}

const report = await withStack('soak', async (stack, models) => {
  log('starting nats-server, llm-, stt-, tts-service and a gateway');
  await Promise.all([stack.startLlm(), stack.startStt(), stack.startTts()]);
  const gateway = await stack.startGateway('gateway', RAISED, ['llm', 'stt', 'tts']);
  const pids = Object.fromEntries(SERVICES.map((name) => [name, stack.pid(name)]));
  const samples = Object.fromEntries(SERVICES.map((name) => [name, []]));
  const sample = (turn) => {
    for (const name of SERVICES) {
      const rss = rssBytes(pids[name], { children: true });
      samples[name].push([turn, rss, rssBytes(pids[name], { children: true, field: 'RssAnon' })]);
    }
  };
  const failures = {};
  log(`${TURNS} spoken turns one after another (warm-up ${WARMUP}, RSS every ${SAMPLE_EVERY} turns)`);
  sample(0);
  for (let turn = 1; turn <= TURNS; turn++) {
    // A new session every 20 turns: the history sent to the llm stays bounded, as in real use.
    const { status, events } = await speakStream(gateway.url, models.speechWav, {
      ...TURN,
      session_id: `soak-${Math.ceil(turn / 20)}`,
    });
    const { ok, code } = outcome(events);
    const failure = ok ? undefined : status === 200 ? code : `HTTP_${status}`;
    if (failure) failures[failure] = (failures[failure] ?? 0) + 1;
    if (turn % SAMPLE_EVERY === 0 || turn === TURNS) sample(turn);
    if (turn % Math.max(1, Math.floor(TURNS / 10)) === 0) log(`${turn} turns`);
  }
  const services = {};
  for (const name of SERVICES) {
    const after = samples[name].filter(([turn]) => turn >= WARMUP).map(([turn, , anon]) => [turn, anon / 1024]);
    const kibPer100 = (points) => {
      const perTurn = slope(points);
      return perTurn === undefined ? undefined : +(perTurn * 100).toFixed(1);
    };
    const kib = kibPer100(after);
    // Each window's peak, placed at the window's middle turn.
    const span = (TURNS - WARMUP) / WINDOWS;
    const peaks = Array.from({ length: WINDOWS }, (_, w) => {
      const inWindow = after.filter(
        ([turn]) => turn >= WARMUP + w * span && (turn < WARMUP + (w + 1) * span || w === WINDOWS - 1),
      );
      return inWindow.length ? [WARMUP + (w + 0.5) * span, Math.max(...inWindow.map(([, kib]) => kib))] : undefined;
    }).filter(Boolean);
    const peakSlope = kibPer100(peaks);
    services[name] = {
      rss_mib_start: mib(samples[name][0][1]),
      rss_mib_end: mib(samples[name].at(-1)[1]),
      anon_mib_start: mib(samples[name][0][2]),
      anon_mib_after_warmup: mib((after[0]?.[1] ?? 0) * 1024),
      anon_mib_end: mib(samples[name].at(-1)[2]),
      slope_kib_per_100_turns: kib,
      peak_slope_kib_per_100_turns: peakSlope,
      peaks_mib: peaks.map(([, kib]) => mib(kib * 1024)),
      samples_after_warmup: after.length,
      verdict: peakSlope === undefined ? 'too few samples' : peakSlope <= MAX_SLOPE_KIB ? 'stable' : 'growing',
      series: samples[name].map(([turn, rss, anon]) => [turn, mib(rss), mib(anon)]),
    };
  }
  return {
    turns: TURNS,
    warmup: WARMUP,
    max_slope_kib: MAX_SLOPE_KIB,
    raised_limits: RAISED,
    failures,
    failed: Object.values(failures).reduce((a, b) => a + b, 0),
    services,
  };
});

console.log(`## Soak: ${report.turns} spoken turns (speak-stream) one after another\n`);
console.log(`Edge limits raised for the run: RATE_LIMIT_PER_MINUTE=0, MAX_STREAMS_PER_CLIENT=0 (0 = off).`);
console.log(
  `Slope: least squares over the anonymous-RSS samples after the ${report.warmup}-turn warm-up, and over the peaks of its ${WINDOWS} windows; ` +
    `"stable" when the peaks grow at most ${report.max_slope_kib} KiB per 100 turns.\n`,
);
console.log(
  `| service | RSS start → end | anonymous RSS start / after warm-up / end | slope after warm-up (KiB / 100 turns) | peaks (MiB) | slope of the peaks | verdict |\n|---|---|---|---|---|---|---|`,
);
for (const [name, s] of Object.entries(report.services)) {
  console.log(
    `| ${name} | ${s.rss_mib_start} → ${s.rss_mib_end} MiB | ${s.anon_mib_start} / ${s.anon_mib_after_warmup} / ${s.anon_mib_end} MiB | ` +
      `${s.slope_kib_per_100_turns ?? 'n/a'} | ${s.peaks_mib.join(', ')} | ${s.peak_slope_kib_per_100_turns ?? 'n/a'} | ${s.verdict} |`,
  );
}
console.log(`\nRSS over time (turn: RSS/anonymous MiB):`);
for (const [name, s] of Object.entries(report.services))
  console.log(`- ${name}: ${s.series.map(([t, rss, anon]) => `${t}: ${rss}/${anon}`).join(', ')}`);
const verdict = Object.values(report.services).every((s) => s.verdict === 'stable') ? 'stable' : 'not shown stable';
console.log(`\nTurns failed: ${report.failed} ${report.failed ? JSON.stringify(report.failures) : ''}`);
console.log(
  `Verdict: memory ${verdict}${report.turns < 500 ? ' (a short run: the slope is noisy, read it as a smoke test)' : ''}\n`,
);
console.log(`SOAK-RESULT ${JSON.stringify({ ...report, verdict })}`);
process.exitCode = report.failed === 0 ? 0 : 1;
