import { ParleyError } from '@parley/contracts';
import { isSilent, WHISPER_SAMPLE_RATE } from '../audio/index.js';

/**
 * The one place that decides a recording had no speech (NO_SPEECH, 422 at the gateway). Every
 * other part (the gateway's routes and turns, the audio decoding) passes this error on.
 * Two moments decide it: before the engine, by energy (whisper's own no-speech probability is
 * unreliable with multilingual models, and silence is cheap to spot); after it, by what it heard.
 */
function noSpeech(why: string): ParleyError {
  return new ParleyError('NO_SPEECH', `no speech detected: ${why}; please speak and try again`);
}

/** NO_SPEECH when the loudest 30 ms window is below the threshold: the recogniser is not asked. */
export function assertNotSilent(samples: Float32Array, thresholdDbfs: number): void {
  if (isSilent(samples, WHISPER_SAMPLE_RATE, thresholdDbfs)) {
    throw noSpeech(`the audio is silent (quieter than ${thresholdDbfs} dBFS)`);
  }
}

/** Whisper's annotations of sounds that are not words: [BLANK_AUDIO], (music), [ Silence ]... */
const NON_SPEECH_MARKERS = /\[[^\]]*\]|\([^)]*\)|\*[^*]*\*/g;

/** What the recogniser heard, trimmed; NO_SPEECH when it holds no word (only markers or punctuation). */
export function spokenText(heard: string): string {
  const text = heard.trim();
  if (!/[\p{L}\p{N}]/u.test(text.replace(NON_SPEECH_MARKERS, ''))) throw noSpeech('the recogniser heard no words');
  return text;
}
