import { TTS_LIMITS } from '@parley/contracts';
import type { SynthesisRequest, VoiceInfo } from './tts-engine.port.js';

/**
 * The last check before native code. sherpa-onnx crashes the process (uncatchable) or never
 * settles on some inputs, e.g. a negative speed; the request schema already refuses these, and
 * this guard keeps the engine safe whoever calls it. Returns what is wrong, or undefined.
 */
export function unsafeInput(request: SynthesisRequest, voice: Pick<VoiceInfo, 'id' | 'speakers'>): string | undefined {
  if (typeof request.text !== 'string' || !request.text.trim()) return 'text must not be empty or only whitespace';
  if (request.text.length > TTS_LIMITS.maxTextChars) return `text must be at most ${TTS_LIMITS.maxTextChars} characters`;
  if (typeof request.speed !== 'number' || !Number.isFinite(request.speed) || request.speed < TTS_LIMITS.speed.min || request.speed > TTS_LIMITS.speed.max) {
    return `speed must be a number from ${TTS_LIMITS.speed.min} to ${TTS_LIMITS.speed.max}`;
  }
  if (!Number.isInteger(request.speakerId) || request.speakerId < 0 || request.speakerId >= voice.speakers) {
    return `speaker_id ${request.speakerId} is out of range: voice ${voice.id} has speaker ids 0-${voice.speakers - 1}`;
  }
  return undefined;
}
