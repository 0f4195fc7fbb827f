// (1) Relay overhead per streamed chunk: engine → llm-service → NATS → gateway → SSE client, at
// 1 and 50 concurrent streams, from the llm-service's engine stamps (LLM_BENCH_STAMP_SUBJECT) to
// the chunk's arrival; beside it the same chunk read straight from NATS (engine → service → NATS
// → a NestJS client) and a bare NATS request/stream on the same broker (the baseline).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, createInbox } from '@nats-io/transport-node';
import { figure } from '../lib/report.mjs';
import { epochMs, quantile } from '../lib/stats.mjs';
import { outcome, postSse } from '../lib/clients.mjs';

export const LLM_SEQUENCES = 2; // the main stack's llm-service (its default)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const TURN = { language: 'es', difficulty: 'advanced', scenario: 'greeting' };

/** Per-chunk latencies (arrival − engine stamp) of one stream; undefined if the counts differ. */
function chunkLatencies(arrivals, stamps) {
  if (!stamps || stamps.chunks.length !== arrivals.length) return undefined;
  return arrivals.map((at, i) => at - stamps.chunks[i]);
}

/** Rounds of `concurrency` simultaneous streams made by `one(i)`; returns their results in order. */
async function rounds(concurrency, count, one) {
  const results = [];
  for (let done = 0; done < count; done += concurrency) {
    results.push(
      ...(await Promise.all(Array.from({ length: Math.min(concurrency, count - done) }, (_, k) => one(done + k)))),
    );
  }
  return results;
}

async function rawBaseline(natsUrl, parallel, concurrency, count, chunks, intervalMs) {
  const subject = `bench.raw.${Math.random().toString(36).slice(2)}`;
  const responder = spawn(
    process.execPath,
    [
      fileURLToPath(new URL('../support/raw-stream-responder.mjs', import.meta.url)),
      natsUrl,
      subject,
      String(parallel),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise((resolve, reject) => {
    responder.stdout.once('data', resolve);
    responder.once('exit', (code) => reject(new Error(`raw responder exited ${code}`)));
  });
  const nc = await connect({ servers: natsUrl, name: 'bench-raw-requester' });
  try {
    const latencies = [];
    await rounds(concurrency, count, async () => {
      const inbox = createInbox();
      const sub = nc.subscribe(inbox);
      nc.publish(subject, JSON.stringify({ chunks, intervalMs }), { reply: inbox });
      for await (const m of sub) {
        if (m.data.length === 0) break;
        const { at_ms } = JSON.parse(new TextDecoder().decode(m.data));
        latencies.push(epochMs() - at_ms);
      }
      sub.unsubscribe();
    });
    return latencies;
  } finally {
    await nc.close();
    responder.kill();
  }
}

export async function relay({ stack, gateway, llmClient, stamps, models, counts }) {
  const rows = [];
  let tag = 0;
  for (const concurrency of [1, 50]) {
    const count = concurrency === 1 ? counts.relaySingle : concurrency * counts.relayRounds;
    // Through the gateway, as a browser reads it.
    const sse = await rounds(concurrency, count, async () => {
      const message = `Hola relay ${tag++}`;
      const turn = await postSse(`${gateway.url}/api/conversation/text-stream`, { ...TURN, message });
      return { message, turn };
    });
    // Straight from NATS, the way the gateway itself reads the service.
    const direct = await rounds(concurrency, count, async () => {
      const request_id = `bench-relay-${tag++}`;
      return {
        request_id,
        ...(await llmClient.chat({
          request_id,
          messages: [{ role: 'user', content: 'Hola' }],
          max_tokens: models.maxTokens,
        })),
      };
    });
    await sleep(100);
    await stamps.flush();
    const sseLatencies = [];
    const answerChunks = [];
    const gaps = [];
    let unmatched = 0;
    let errors = 0;
    for (const { message, turn } of sse) {
      if (!outcome(turn.events).ok) errors++;
      const arrivals = turn.events.filter((e) => e.event === 'response_chunk').map((e) => e.at);
      const stamp = stamps.byUserMessage(message);
      const latencies = chunkLatencies(arrivals, stamp);
      if (!latencies) unmatched++;
      else sseLatencies.push(...latencies);
      answerChunks.push(arrivals.length);
      if (stamp) for (let i = 1; i < stamp.chunks.length; i++) gaps.push(stamp.chunks[i] - stamp.chunks[i - 1]);
    }
    const natsLatencies = [];
    for (const d of direct) {
      const latencies = chunkLatencies(d.chunks, stamps.byRequestId(d.request_id));
      if (!latencies) unmatched++;
      else natsLatencies.push(...latencies);
    }
    const chunksPerStream = Math.round(sseLatencies.length / Math.max(1, sse.length - unmatched));
    const intervalMs = Math.max(0, Math.round(quantile(gaps, 0.5) ?? 1));
    const raw = await rawBaseline(stack.nats.url, LLM_SEQUENCES, concurrency, count, chunksPerStream, intervalMs);
    const baseline = { name: `bare NATS request/stream, ${concurrency} concurrent`, samples: raw };
    const note = unmatched || errors ? `${unmatched} streams unmatched, ${errors} errors` : undefined;
    rows.push(
      figure(`engine → SSE client per chunk, ${concurrency} stream${concurrency > 1 ? 's' : ''}`, 'ms', sseLatencies, {
        baseline,
        note,
      }),
    );
    rows.push(
      figure(
        `engine → NATS client per chunk, ${concurrency} stream${concurrency > 1 ? 's' : ''}`,
        'ms',
        natsLatencies,
        { baseline },
      ),
    );
    if (concurrency === 1) rows.push(figure('chunks (tokens) per answer', 'chunks', answerChunks));
    rows.push(
      figure(
        `engine inter-chunk gap, ${concurrency} stream${concurrency > 1 ? 's' : ''} (raw baseline paced at its median)`,
        'ms',
        gaps,
      ),
    );
  }
  return {
    title: '1. Relay overhead per streamed chunk',
    setup:
      'latency from the engine handing a chunk on (llm-service stamp) to its arrival; baseline: a bare NATS request/stream on the same broker with the same chunks per stream, pace and parallelism',
    rows,
  };
}
