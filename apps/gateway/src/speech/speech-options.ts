import { SPEECH_RATE_BY_DIFFICULTY, type Difficulty } from '@parley/contracts';
import type { SpeechOptions } from '../conversation/turn/ports.js';

/**
 * The engine's speed from the API's speech_rate, a duration scale (1.2 is 20% slower, so the
 * speed is its inverse); without one, the difficulty's rate for turns and normal speed for
 * `/synthesize`.
 */
export function speechOptions(
  request: { language: string; voice?: string; speech_rate?: number },
  difficulty?: Difficulty,
): SpeechOptions {
  const rate = request.speech_rate ?? (difficulty ? SPEECH_RATE_BY_DIFFICULTY[difficulty] : 1);
  return { language: request.language, voice: request.voice, speed: 1 / rate };
}
