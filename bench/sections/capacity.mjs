// (6) Capacity: how many simultaneous text-streams one gateway + one llm-service serve with 0
// errors (default admission: LLM_SEQUENCES + LLM_MAX_QUEUED), the same with an unbounded queue up
// to 200 streams and the gateway's RSS while 200 are open, and LLM throughput with 1, 2, 4
// parallel sequences.
import { figure } from '../lib/report.mjs';
import { epochMs } from '../lib/stats.mjs';
import { LlmNatsClient, outcome, postSse } from '../lib/clients.mjs';
import { cpuMs, Stack } from '../lib/system.mjs';

const TURN = { language: 'es', difficulty: 'advanced', scenario: 'greeting', message: 'Hola' };
const MB = 1024 * 1024;

/** `n` text-streams at once; their outcomes, completion times, and a hook when all headers came. */
async function burst(base, n, { onAllOpen } = {}) {
  let open = 0;
  const turns = await Promise.all(
    Array.from({ length: n }, () =>
      postSse(`${base}/api/conversation/text-stream`, TURN, {
        onHeaders: () => {
          if (++open === n) onAllOpen?.();
        },
      }).catch((error) => ({
        sentAt: epochMs(),
        events: [{ event: 'error', data: { code: `CLIENT_${error.code ?? error.name}` }, at: epochMs() }],
      })),
    ),
  );
  const codes = {};
  const completeMs = [];
  for (const t of turns) {
    const { ok, code } = outcome(t.events);
    if (ok) completeMs.push(t.events.at(-1).at - t.sentAt);
    else codes[code] = (codes[code] ?? 0) + 1;
  }
  return { errors: n - completeMs.length, codes, completeMs };
}

/** Raises the number of simultaneous streams until one errs; the highest level with 0 errors. */
async function ramp(base, levels) {
  let best = { level: 0, completeMs: [] };
  let firstFailure;
  for (const level of levels) {
    const result = await burst(base, level);
    if (result.errors > 0) {
      firstFailure = { level, ...result };
      break;
    }
    best = { level, completeMs: result.completeMs };
  }
  return { best, firstFailure };
}

async function throughput(stack, sequences, counts) {
  const tokens = stack.models.generated
    ? counts.throughputTokens
    : Math.min(counts.throughputTokens, stack.models.maxTokens);
  const llm = await stack.startLlm(`llm-service-${sequences}-seq`, {
    LLM_MODEL_PATH: stack.models.llmEndless,
    LLM_SEQUENCES: String(sequences),
  });
  const client = new LlmNatsClient(stack.nats.url);
  try {
    const chat = (i) =>
      client.chat({
        request_id: `bench-tput-${sequences}-${i}`,
        messages: [{ role: 'user', content: 'Hola' }],
        max_tokens: tokens,
      });
    await Promise.all(Array.from({ length: sequences }, (_, i) => chat(`warm${i}`)));
    const rates = [];
    for (let round = 0; round < counts.throughputRounds; round++) {
      const t0 = epochMs();
      const results = await Promise.all(Array.from({ length: sequences }, (_, i) => chat(`${round}-${i}`)));
      const tokens = results.reduce((sum, r) => sum + r.done.completion_tokens, 0);
      rates.push(tokens / ((epochMs() - t0) / 1000));
    }
    return rates;
  } finally {
    await client.close();
    await stack.stop(llm);
  }
}

/** A private broker, so that no other llm-service shares the queue group of the one measured. */
async function withStack(models, use) {
  const stack = await Stack.start(models);
  try {
    return await use(stack);
  } finally {
    await stack.close();
  }
}

export async function capacity({ models, counts }) {
  const rows = [];
  // Default admission (LLM_SEQUENCES 2, LLM_MAX_QUEUED 16).
  const admission = await withStack(models, async (stack) => {
    await stack.startLlm();
    return ramp((await stack.startGateway()).url, counts.rampLevels);
  });
  const failure = admission.firstFailure;
  rows.push(
    figure(
      'simultaneous text-streams with 0 errors, default config (highest level tried)',
      'streams',
      [admission.best.level],
      {
        note: failure
          ? `at ${failure.level}: ${failure.errors} errors ${JSON.stringify(failure.codes)}`
          : 'no level failed',
      },
    ),
  );
  rows.push(
    figure(`time to complete at ${admission.best.level} simultaneous streams`, 'ms', admission.best.completeMs),
  );

  // Unbounded queue: what one gateway holds, and its memory with 200 streams open.
  await withStack(models, async (stack) => {
    await stack.startLlm('llm-service', { LLM_MAX_QUEUED: '100000' });
    const gw = await stack.startGateway('gateway', { LLM_FIRST_REPLY_TIMEOUT_MS: '600000' });
    const idleRss = stack.rss('gateway');
    for (const n of counts.openLevels) {
      let openRss;
      const cpuBefore = { gateway: cpuMs(stack.pid('gateway')), llm: cpuMs(stack.pid('llm-service')) };
      const result = await burst(gw.url, n, { onAllOpen: () => (openRss = stack.rss('gateway')) });
      const cpu = {
        gateway: cpuMs(stack.pid('gateway')) - cpuBefore.gateway,
        llm: cpuMs(stack.pid('llm-service')) - cpuBefore.llm,
      };
      rows.push(
        figure(`${n} simultaneous streams, unbounded llm queue: errors`, 'errors', [result.errors], {
          note: result.errors ? JSON.stringify(result.codes) : undefined,
        }),
      );
      rows.push(figure(`${n} simultaneous streams, unbounded llm queue: time to complete`, 'ms', result.completeMs));
      rows.push(figure(`gateway CPU per text turn (${n} at once)`, 'CPU ms', [cpu.gateway / n]));
      rows.push(figure(`llm-service CPU per text turn (${n} at once)`, 'CPU ms', [cpu.llm / n]));
      if (n === counts.openLevels.at(-1)) {
        rows.push(
          figure(`gateway RSS with ${n} streams open`, 'MB', [openRss / MB], {
            baseline: { name: 'gateway RSS idle', samples: [idleRss / MB] },
          }),
        );
      }
    }
  });

  // Throughput by parallel sequences, ratio against 1 sequence measured just before.
  await withStack(models, async (stack) => {
    const one = await throughput(stack, 1, counts);
    rows.push(figure('LLM throughput, 1 sequence', 'tokens/s', one));
    for (const sequences of [2, 4]) {
      rows.push(
        figure(
          `LLM throughput, ${sequences} parallel sequences (all busy)`,
          'tokens/s',
          await throughput(stack, sequences, counts),
          {
            baseline: { name: '1 sequence', samples: one },
          },
        ),
      );
    }
  });
  return {
    title: '6. Capacity',
    setup: `one gateway + one llm-service (1 thread); throughput: ${counts.throughputTokens}-token answers of the generated endless model, all sequences busy`,
    rows,
  };
}
