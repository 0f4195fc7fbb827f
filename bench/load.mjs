#!/usr/bin/env node
// `npm run load`: many text-streams at once against one gateway with two llm-service replicas
// (issue 12, item 5). Every stream must end with `complete` or a fast SERVICE_BUSY (the queues
// are full: the client is told at once, not after a timeout); none may hang (each has a
// deadline); the gateway's resident memory is reported. Rate limit and per-client stream cap are
// off for the run (one client stands for many learners), and the report says so.
//
//   node bench/load.mjs [--streams=200] [--deadline-ms=120000]
//
// The report goes to stdout, ending with one `LOAD-RESULT {json}` line; exit code 1 when a stream
// hung or ended with anything but complete / SERVICE_BUSY.
import { outcome, readSse } from './lib/clients.mjs';
import { epochMs, summarize } from './lib/stats.mjs';
import { rssBytes } from './lib/system.mjs';
import { mib, numberArg, progressLog, withStack } from './lib/script-run.mjs';

const STREAMS = numberArg('streams', 200);
const DEADLINE_MS = numberArg('deadline-ms', 120_000);
const TURN = { language: 'es', difficulty: 'advanced', scenario: 'greeting', message: 'Hola' };
/** The edge limits raised for the run (both 0 = off). */
const RAISED = { RATE_LIMIT_PER_MINUTE: '0', MAX_STREAMS_PER_CLIENT: '0' };
const log = progressLog('load');

/** One text-stream with a deadline: how it ended and when. */
async function stream(base) {
  const sentAt = epochMs();
  try {
    const res = await fetch(`${base}/api/conversation/text-stream`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify(TURN),
      signal: AbortSignal.timeout(DEADLINE_MS),
    });
    if (res.status !== 200) return { kind: `HTTP_${res.status}`, ms: epochMs() - sentAt };
    const events = await readSse(res);
    const { ok, code } = outcome(events);
    const terminals = events.filter((e) => e.event === 'complete' || e.event === 'error').length;
    if (terminals !== 1) return { kind: `TERMINAL_EVENTS_${terminals}`, ms: epochMs() - sentAt };
    return { kind: ok ? 'complete' : code, ms: (events.at(-1)?.at ?? epochMs()) - sentAt };
  } catch (error) {
    const hung = error?.name === 'TimeoutError';
    return { kind: hung ? 'hung' : `CLIENT_${error?.code ?? error?.name}`, ms: epochMs() - sentAt };
  }
}

const report = await withStack('load', async (stack) => {
  log('starting nats-server, two llm-service replicas and a gateway');
  await Promise.all([stack.startLlm('llm-service-1'), stack.startLlm('llm-service-2')]);
  const gateway = await stack.startGateway('gateway', RAISED, ['llm']);
  const gatewayPid = stack.pid('gateway');
  await stream(gateway.url); // warm-up: first connections and first turn
  const idleRss = rssBytes(gatewayPid);
  stack.resetSamples();
  log(`${STREAMS} text-streams at once (deadline ${DEADLINE_MS} ms each)`);
  const t0 = epochMs();
  const results = await Promise.all(Array.from({ length: STREAMS }, () => stream(gateway.url)));
  const wallMs = epochMs() - t0;
  const counts = {};
  for (const r of results) counts[r.kind] = (counts[r.kind] ?? 0) + 1;
  const gatewaySamples = stack.samples.get('gateway') ?? [];
  return {
    streams: STREAMS,
    deadline_ms: DEADLINE_MS,
    llm_replicas: 2,
    raised_limits: RAISED,
    counts,
    complete: counts.complete ?? 0,
    busy: counts.SERVICE_BUSY ?? 0,
    hung: counts.hung ?? 0,
    other: STREAMS - (counts.complete ?? 0) - (counts.SERVICE_BUSY ?? 0) - (counts.hung ?? 0),
    complete_ms: summarize(results.filter((r) => r.kind === 'complete').map((r) => r.ms)),
    time_to_busy_ms: summarize(results.filter((r) => r.kind === 'SERVICE_BUSY').map((r) => r.ms)),
    wall_ms: Math.round(wallMs),
    gateway_rss_mib: {
      idle: mib(idleRss),
      peak: mib(Math.max(idleRss, ...gatewaySamples)),
      after: mib(rssBytes(gatewayPid)),
    },
  };
});

const ms = (s) =>
  s.n ? `p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms, max ${s.max.toFixed(0)} ms (n ${s.n})` : 'none';
const pass = report.hung === 0 && report.other === 0;
console.log(
  `## Load: ${report.streams} concurrent text-streams, one gateway, ${report.llm_replicas} llm-service replicas\n`,
);
console.log(
  `Edge limits raised for the run: RATE_LIMIT_PER_MINUTE=${RAISED.RATE_LIMIT_PER_MINUTE}, MAX_STREAMS_PER_CLIENT=${RAISED.MAX_STREAMS_PER_CLIENT} (0 = off: one client stands for many learners).\n`,
);
console.log(`| outcome | streams | time |\n|---|---|---|`);
console.log(`| complete | ${report.complete} | ${ms(report.complete_ms)} |`);
console.log(
  `| SERVICE_BUSY (queues full, told at once) | ${report.busy} | time to busy: ${ms(report.time_to_busy_ms)} |`,
);
console.log(`| hung (no end within ${report.deadline_ms} ms) | ${report.hung} | |`);
console.log(
  `| anything else | ${report.other} | ${JSON.stringify(Object.fromEntries(Object.entries(report.counts).filter(([k]) => !['complete', 'SERVICE_BUSY', 'hung'].includes(k))))} |`,
);
console.log(
  `\nGateway RSS: ${report.gateway_rss_mib.idle} MiB idle, ${report.gateway_rss_mib.peak} MiB peak during the burst, ${report.gateway_rss_mib.after} MiB after; all streams ended in ${report.wall_ms} ms.`,
);
console.log(`Verdict: ${pass ? 'PASS' : 'FAIL'} (every stream ends with complete or SERVICE_BUSY, none hangs)\n`);
console.log(`LOAD-RESULT ${JSON.stringify({ ...report, pass })}`);
process.exitCode = pass ? 0 : 1;
