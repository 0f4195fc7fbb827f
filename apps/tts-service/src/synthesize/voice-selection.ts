import { ParleyError } from '@parley/contracts';
import type { VoiceInfo } from '../engine/tts-engine.port.js';

export interface VoiceChoice {
  language: string;
  voice?: string;
  speaker_id: number;
}

/**
 * The voice for a request: the requested one if resident (an unknown one is the caller's
 * mistake), else the first voice of the language (exact code first, then the base language, so
 * `pt-BR` finds a `pt` voice), else the default voice. The speaker id must exist in that voice.
 */
export function selectVoice(voices: readonly VoiceInfo[], defaultVoice: string, request: VoiceChoice): VoiceInfo {
  const ids = () => voices.map((v) => v.id).join(', ');
  let voice: VoiceInfo | undefined;
  if (request.voice !== undefined) {
    voice = voices.find((v) => v.id === request.voice);
    if (!voice) throw new ParleyError('INVALID_REQUEST', `Invalid synthesize request: voice: unknown voice '${request.voice}'; resident voices: ${ids()}`);
  } else {
    const language = request.language.toLowerCase();
    const base = language.split('-')[0];
    voice =
      voices.find((v) => v.languages.includes(language)) ??
      voices.find((v) => v.languages.some((l) => l.split('-')[0] === base)) ??
      voices.find((v) => v.id === defaultVoice) ??
      voices[0];
    if (!voice) throw new ParleyError('MODEL_NOT_LOADED', 'no voice is loaded');
  }
  if (request.speaker_id >= voice.speakers) {
    throw new ParleyError(
      'INVALID_REQUEST',
      `Invalid synthesize request: speaker_id: ${request.speaker_id} is out of range; voice ${voice.id} has speaker ids 0-${voice.speakers - 1}`,
    );
  }
  return voice;
}
