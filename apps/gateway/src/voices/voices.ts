import { LANGUAGE_CODES, LANGUAGES, ParleyError, type ResidentVoice, type VoicesHttpResponse } from '@parley/contracts';

/** True when `voice` speaks `language` (exact code, or the same base language: `pt-br` speaks `pt`). */
function speaks(voice: ResidentVoice, language: string): boolean {
  return voice.languages.some((spoken) => spoken.toLowerCase().split('-')[0] === language);
}

/**
 * Per catalog language, the voices it can be spoken with: the loaded voices that speak it first
 * (in the tts-service's order), then the catalog's Piper voices for it that are not loaded (they can
 * be pulled). Without an answer from the tts-service, the catalog's voices alone.
 */
export function voicesByLanguage(resident: readonly ResidentVoice[]): VoicesHttpResponse {
  const voices: Record<string, string[]> = {};
  for (const language of LANGUAGE_CODES) {
    const loaded = resident.filter((voice) => speaks(voice, language)).map((voice) => voice.id);
    const catalog = LANGUAGES[language].tts_voices.filter((id) => !loaded.includes(id));
    voices[language] = [...loaded, ...catalog];
  }
  return { voices };
}

/**
 * The error for a `voice` the tts-service has not loaded, checked before a streamed turn starts:
 * without it the turn would run, and its speech end with the tts-service's refusal half-way
 * (some sentences spoken in another voice). Undefined when the voice is known, none was asked
 * for, or no tts-service answered (the turn then reports what speech could do).
 */
export function unknownVoiceError(voice: string | undefined, resident: readonly ResidentVoice[] | undefined): ParleyError | undefined {
  if (voice === undefined || resident === undefined || resident.some((v) => v.id === voice)) return undefined;
  return new ParleyError('INVALID_REQUEST', `Invalid request: voice: unknown voice '${voice}'; resident voices: ${resident.map((v) => v.id).join(', ') || 'none'}`);
}
