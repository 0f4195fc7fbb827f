// (4) Live conversation over GET /api/conversation/live: an espeak-ng utterance (silence trimmed,
// so where its last voiced sample lies is known to the sample) streamed in 40 ms frames at
// real-time pace, one socket per run. Measured from the moment the last voiced sample reached the
// server (the client's send time of the frame that holds it; not the later `speech_stopped`) to
// `speech_stopped`, `transcription` and the first `audio`. The VAD's silence wait (how much
// silence ends an utterance) is part of every figure; it is reported beside them, and the figures
// less the wait are compared with the same utterance uploaded to speak-stream once it has ended.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pcmFrames, samplesToMs, silencePcm, spokenPcm, wavFile } from '@parley/models/fixtures/speech';
import WebSocket from 'ws';
import { loadConfig as loadSttConfig } from '../../apps/stt-service/dist/config.js';
import { speakStream } from '../lib/clients.mjs';
import { figure } from '../lib/report.mjs';
import { epochMs } from '../lib/stats.mjs';

const TURN = { language: 'es', difficulty: 'advanced', scenario: 'greeting' };
const UTTERANCE = 'I would like to practise Spanish with you today.';
const FRAME_MS = 40;
const LEAD_MS = 300;
/** Longest wait for the first audio after the utterance (then the run counts as failed). */
const LIMIT_MS = 20_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One live turn: a new socket, `LEAD_MS` of silence, the utterance, then silence until the first
 * `audio` (or an error) arrives; the socket is then closed (which cancels the rest of the answer).
 * Returns the arrival times of the events relative to the send time of the last voiced sample.
 */
async function liveTurn(base, utterance) {
  const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/api/conversation/live?${new URLSearchParams(TURN)}`);
  const events = [];
  socket.on('message', (data) => events.push({ ...JSON.parse(data.toString()), at: epochMs() }));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const seen = (name) => events.find((e) => e.event === name);
  try {
    const lead = silencePcm(LEAD_MS);
    const pcm = new Int16Array(lead.length + utterance.length + (LIMIT_MS * 16));
    pcm.set(utterance, lead.length);
    const lastVoiced = lead.length + utterance.length - 1;
    let lastVoicedSentAt;
    const started = epochMs();
    for (const frame of pcmFrames(pcm, FRAME_MS)) {
      if (seen('audio') || seen('error')) break;
      const due = started + samplesToMs(frame.offset);
      const wait = due - epochMs();
      if (wait > 0) await sleep(wait);
      socket.send(frame.bytes);
      if (lastVoicedSentAt === undefined && frame.offset + frame.bytes.byteLength / 2 > lastVoiced) lastVoicedSentAt = epochMs();
    }
    const after = (name) => (seen(name) ? seen(name).at - lastVoicedSentAt : undefined);
    return {
      ok: Boolean(seen('audio')) && !seen('error'),
      error: seen('error')?.data,
      stopped: after('speech_stopped'),
      transcription: after('transcription'),
      firstAudio: after('audio'),
    };
  } finally {
    socket.close();
  }
}

export async function liveConversation({ gateway, models, counts, work }) {
  // The stt-service's VAD settings as it read them (it inherits this environment; the model path is the bench's).
  const { minSilenceMs, minSpeechMs } = loadSttConfig({ ...process.env, STT_MODEL_PATH: models.stt }).live.vad;
  const utterance = spokenPcm(UTTERANCE);
  // The same utterance (trimmed as streamed) for the baseline's upload.
  const wav = join(work, 'live-utterance.wav');
  writeFileSync(wav, wavFile(utterance));

  const live = { stopped: [], transcription: [], firstAudio: [] };
  const upload = { transcription: [], firstAudio: [] };
  const failures = [];
  for (let i = -1; i < counts.live; i++) {
    const turn = await liveTurn(gateway.url, utterance);
    const uploaded = await speakStream(gateway.url, wav, TURN);
    if (i < 0) continue; // warm-up: the first socket and stt stream
    if (!turn.ok) {
      failures.push(turn.error?.code ?? 'NO_AUDIO');
      continue;
    }
    live.stopped.push(turn.stopped);
    live.transcription.push(turn.transcription);
    live.firstAudio.push(turn.firstAudio);
    const at = (name) => uploaded.events.find((e) => e.event === name)?.at - uploaded.sentAt;
    upload.transcription.push(at('transcription'));
    upload.firstAudio.push(at('audio'));
  }
  const less = (samples) => samples.map((ms) => ms - minSilenceMs);
  const note = failures.length ? { note: `${failures.length} run(s) without audio: ${failures.join(', ')}` } : {};
  return {
    title: '4. Live conversation (WebSocket)',
    setup:
      `${counts.live} utterances of ${(utterance.length / 16_000).toFixed(1)} s (espeak-ng, silence trimmed) streamed in ${FRAME_MS} ms frames at real-time pace, one socket each; ` +
      `from the send time of the frame holding the last voiced sample. VAD: STT_VAD_MIN_SILENCE_MS=${minSilenceMs}, STT_VAD_MIN_SPEECH_MS=${minSpeechMs}. ` +
      'Baseline: the same utterance uploaded to speak-stream once it has ended (push-to-talk), from the upload.',
    rows: [
      figure('VAD silence wait (STT_VAD_MIN_SILENCE_MS, configured)', 'ms', [minSilenceMs]),
      figure('last voiced sample → speech_stopped', 'ms', live.stopped, note),
      figure('last voiced sample → transcription', 'ms', live.transcription, note),
      figure('last voiced sample → first audio', 'ms', live.firstAudio, note),
      figure('last voiced sample → transcription, less the silence wait', 'ms', less(live.transcription), {
        baseline: { name: 'speak-stream upload → transcription', samples: upload.transcription },
      }),
      figure('last voiced sample → first audio, less the silence wait', 'ms', less(live.firstAudio), {
        baseline: { name: 'speak-stream upload → first audio', samples: upload.firstAudio },
      }),
    ],
  };
}
