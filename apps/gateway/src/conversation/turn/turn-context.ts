import type { SpeakRequest, StoredMessage, TextTurnRequest, TurnTimings } from '@parley/contracts';
import type { TutorSettings } from '../prompts.js';
import { speechOptions } from '../../speech/speech-options.js';
import type { LearnerRef } from '../../learners/learner-store.port.js';
import type { SpeechOptions } from './ports.js';

/**
 * What the transport says of a turn: `speak`, whether it delivers the answer's speech;
 * `learnerSpace`, the caller's API key id, within which its learner ids live.
 */
export interface TurnOptions {
  speak: boolean;
  learnerSpace?: string;
}

/** What every collaborator of one turn knows about it. */
export interface TurnContext {
  sessionId: string;
  settings: TutorSettings;
  /** History sent by the client; when absent, the session's stored history is used. */
  history?: StoredMessage[];
  /** When set, each sentence of the answer is also spoken, in `audio` events. */
  speech?: SpeechOptions;
  /**
   * The native language's voice, when the answer mixes languages (below the advanced level, with a
   * native language other than the target): its runs are spoken with it.
   */
  nativeSpeech?: SpeechOptions;
  /** When set, a `feedback` event follows the answer (corrections, translation, new words). */
  feedback: boolean;
  /** When set, the turn counts toward this learner's progress. */
  learner?: LearnerRef;
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
export function turnContext(request: TextTurnRequest | SpeakRequest, options: TurnOptions): TurnContext {
  const settings = {
    language: request.language,
    nativeLanguage: request.native_language,
    difficulty: request.difficulty,
    scenario: request.scenario,
  } as TutorSettings;
  const speech = options.speak ? speechOptions(request, settings.difficulty) : undefined;
  const bilingual = speech && settings.difficulty !== 'advanced' && settings.nativeLanguage !== settings.language;
  return {
    sessionId: request.session_id ?? newSessionId(),
    settings,
    history: 'history' in request ? request.history : undefined,
    speech,
    // The request's voice is the target language's; the native language gets its default voice.
    nativeSpeech: bilingual ? { language: settings.nativeLanguage, speed: speech.speed } : undefined,
    feedback: request.feedback,
    learner: request.learner_id ? { id: request.learner_id, space: options.learnerSpace } : undefined,
    startedAtMs: performance.now(),
    timings: {},
  };
}
