// (3) speak-stream timeline: start → transcription → first response_chunk → first audio →
// complete, against the same spoken turn done the replaced system's way (transcribe, then the
// whole answer, then synthesize it); and first audio / complete for answers of 1–6 sentences,
// sentence-pipelined vs "synthesize after complete" (this folds in the former
// apps/gateway/bench/first-audio.mjs).
import { readFileSync } from 'node:fs';
import { tinyGgufExpectedReply } from '@parley/models/fixtures/gguf';
import { figure } from '../lib/report.mjs';
import { epochMs } from '../lib/stats.mjs';
import { outcome, postSse, speakStream } from '../lib/clients.mjs';

const TURN = { language: 'es', difficulty: 'advanced', scenario: 'greeting' };

/** Tokens of the generated model's answer up to the end of its k-th sentence (one token per word piece). */
function tokensFor(k) {
  const words = tinyGgufExpectedReply().split(/\s+/);
  let sentences = 0;
  for (let i = 0; i < words.length; i++) if (/[.!?]$/.test(words[i]) && ++sentences === k) return i + 1;
  return words.length;
}

async function synthesize(base, text) {
  const t0 = epochMs();
  const res = await fetch(`${base}/api/conversation/synthesize`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ text, language: TURN.language }),
  });
  if (!res.ok) throw new Error(`synthesize answered ${res.status}`);
  await res.arrayBuffer();
  return epochMs() - t0;
}

/** One sentence of the generated answer, as the pipeline synthesizes it. */
const ONE_SENTENCE = tinyGgufExpectedReply().split(/(?<=[.!?])\s+/)[0];

/** The replaced system's way for a spoken turn: three requests, one after the other. */
async function sequentialSpokenTurn(base, wav) {
  const t0 = epochMs();
  const form = new FormData();
  form.append('audio', new Blob([readFileSync(wav)]), 'speech.wav');
  form.append('language', TURN.language);
  const transcript = await fetch(`${base}/api/conversation/transcribe`, { method: 'POST', body: form }).then((r) =>
    r.json(),
  );
  const turn = await postSse(`${base}/api/conversation/text-stream`, { ...TURN, message: transcript.text || 'Hola' });
  const complete = turn.events.find((e) => e.event === 'complete');
  await synthesize(base, complete.data.full_response);
  return epochMs() - t0;
}

/** Pipelined: the first `audio` of a text-stream with tts. */
async function pipelined(base) {
  const turn = await postSse(`${base}/api/conversation/text-stream`, { ...TURN, message: 'Hola', tts: true });
  const audio = turn.events.filter((e) => e.event === 'audio');
  const complete = turn.events.find((e) => e.event === 'complete');
  if (!complete || audio.length === 0) throw new Error(`pipelined turn failed: ${JSON.stringify(turn.events.at(-1))}`);
  return { firstAudio: audio[0].at - turn.sentAt, complete: complete.at - turn.sentAt, sentences: audio.length };
}

/** Baseline: the whole answer first, then one synthesize request for all of it. */
async function synthesizeAfterComplete(base) {
  const turn = await postSse(`${base}/api/conversation/text-stream`, { ...TURN, message: 'Hola' });
  const complete = turn.events.find((e) => e.event === 'complete');
  await synthesize(base, complete.data.full_response);
  return { firstAudio: epochMs() - turn.sentAt, complete: complete.at - turn.sentAt };
}

export async function speakStreamTimeline({ stack, gateway, models, counts }) {
  const marks = { transcription: [], first_chunk: [], first_audio: [], complete: [] };
  const sequential = [];
  let failures = 0;
  for (let i = -1; i < counts.speak; i++) {
    const turn = await speakStream(gateway.url, models.speechWav, TURN);
    const seq = await sequentialSpokenTurn(gateway.url, models.speechWav);
    if (i < 0) continue;
    const at = (name) => turn.events.find((e) => e.event === name)?.at;
    if (!outcome(turn.events).ok) failures++;
    const start = at('start');
    marks.transcription.push(at('transcription') - turn.sentAt);
    marks.first_chunk.push(at('response_chunk') - turn.sentAt);
    marks.first_audio.push(at('audio') - turn.sentAt);
    marks.complete.push(at('complete') - turn.sentAt);
    marks.start ??= [];
    marks.start.push(start - turn.sentAt);
    sequential.push(seq);
  }
  const sentenceMs = [];
  for (let i = 0; i < counts.speak; i++) sentenceMs.push(await synthesize(gateway.url, ONE_SENTENCE));
  const note = failures ? `${failures} turns failed` : undefined;
  const baseline = { name: 'transcribe → text-stream → synthesize, sequential', samples: sequential };
  const rows = [
    figure('speak-stream: upload sent → start', 'ms', marks.start, { note }),
    figure('→ transcription', 'ms', marks.transcription),
    figure('→ first response_chunk', 'ms', marks.first_chunk),
    figure('→ first audio', 'ms', marks.first_audio, { baseline }),
    figure('→ complete', 'ms', marks.complete, { baseline }),
    figure('POST /api/conversation/synthesize, one sentence', 'ms', sentenceMs),
  ];

  // 1–6 sentences: one gateway per answer length (LLM_MAX_TOKENS cuts the generated answer).
  for (const k of counts.sentences) {
    // A real model's sentences are not predictable: about 25 tokens per sentence, and the sentences counted.
    const env = { LLM_MAX_TOKENS: String(models.generated ? tokensFor(k) : 25 * k) };
    const gw = await stack.startGateway(`gateway-${k}-sentences`, env, ['llm', 'tts']);
    try {
      for (let i = 0; i < 2; i++) {
        await pipelined(gw.url);
        await synthesizeAfterComplete(gw.url);
      } // warm-up
      const p = [];
      const b = [];
      for (let i = 0; i < counts.sentenceRuns; i++) {
        p.push(await pipelined(gw.url));
        b.push(await synthesizeAfterComplete(gw.url));
      }
      const spoken = p.map((r) => r.sentences).sort((x, y) => x - y)[p.length >> 1];
      const label = models.generated
        ? `${k} sentence${k > 1 ? 's' : ''}`
        : `≤ ${25 * k} tokens (${spoken} sentences spoken)`;
      rows.push(
        figure(
          `first audio, ${label}, sentence-pipelined`,
          'ms',
          p.map((r) => r.firstAudio),
          {
            baseline: { name: 'synthesize after complete', samples: b.map((r) => r.firstAudio) },
          },
        ),
      );
      rows.push(
        figure(
          `complete (all audio sent), ${label}, sentence-pipelined`,
          'ms',
          p.map((r) => r.complete),
          {
            baseline: { name: 'text complete, then synthesize (all audio)', samples: b.map((r) => r.firstAudio) },
          },
        ),
      );
    } finally {
      await stack.stop(gw);
    }
  }
  return {
    title: '3. speak-stream timeline and sentence-pipelined speech',
    setup: 'times from the upload/request being sent; ratio = figure / baseline (below 1 is sooner)',
    rows,
  };
}
