import type { SpeakRequest, StoredMessage, TextTurnRequest, TurnTimings } from '@parley/contracts';
import type { TutorSettings } from '../tutor-prompt.js';
import { speechOptions } from '../../speech/speech-options.js';
import type { SpeechOptions } from './ports.js';

/** What every collaborator of one turn knows about it. */
export interface TurnContext {
  sessionId: string;
  settings: TutorSettings;
  /** History sent by the client; when absent, the session's stored history is used. */
  history?: StoredMessage[];
  /** When set, each sentence of the answer is also spoken, in `audio` events. */
  speech?: SpeechOptions;
  /** When the turn began (performance.now()), for the timings in `complete`. */
  startedAtMs: number;
  /** Timings measured before the reply (transcription), merged into `complete`. */
  timings: TurnTimings;
  /** false: `complete` does not store the turn (a live turn stores what was heard, once it was heard). */
  store?: boolean;
}

export function newSessionId(): string {
  return crypto.randomUUID();
}

/**
 * The context of a turn from the request's fields: a new session when it names none. `speak`
 * says whether the transport will deliver the answer's speech (a blocking route will not, so
 * nothing is synthesized for it).
 */
export function turnContext(request: TextTurnRequest | SpeakRequest, options: { speak: boolean }): TurnContext {
  const settings = { language: request.language, difficulty: request.difficulty, scenario: request.scenario } as TutorSettings;
  return {
    sessionId: request.session_id ?? newSessionId(),
    settings,
    history: 'history' in request ? request.history : undefined,
    speech: options.speak ? speechOptions(request, settings.difficulty) : undefined,
    startedAtMs: performance.now(),
    timings: {},
  };
}
