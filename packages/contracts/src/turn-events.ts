import type { ErrorCode } from './errors.js';
import type { Feedback } from './feedback.js';

/**
 * The timing keys of `complete.timings`, in milliseconds: `stt_ms` (voice turns: upload to
 * transcript), `llm_first_chunk_ms` and `llm_ms` (from asking the LLM to its first chunk and to
 * its end), `first_audio_ms` (turn start to the first spoken sentence, when speech was asked
 * for and produced) and `total_ms` (turn start to `complete`).
 */
export const TURN_TIMING_KEYS = ['stt_ms', 'llm_first_chunk_ms', 'llm_ms', 'first_audio_ms', 'total_ms'] as const;
export type TurnTimingKey = (typeof TURN_TIMING_KEYS)[number];
export type TurnTimings = Partial<Record<TurnTimingKey, number>>;

/**
 * What a conversation turn emits, in order, whatever carries it (SSE today; other transports
 * write the same events). The names and payloads are those of the API's SSE streams
 * (../shared/API.md). Every turn ends with exactly one `complete` or one `error`; the
 * `response_chunk`s concatenate to `full_response`.
 */
export interface TurnEventMap {
  start: { status: 'transcribing'; session_id: string };
  transcription: { text: string; language: string };
  response_start: { status: 'generating'; session_id: string };
  response_chunk: { chunk: string };
  audio: { seq: number; sentence: string; format: 'wav'; sample_rate: number; audio: string };
  complete: {
    full_response: string;
    language: string;
    session_id: string;
    timings: TurnTimings;
    /** Parley extension: what the LLM read and wrote for this turn. */
    usage?: { prompt_tokens: number; completion_tokens: number };
    /** Parley extension: false when speech was asked for but the tts-service failed mid-turn. */
    audio_available?: boolean;
    audio_error?: string;
    /** Parley extension: the turn asked for feedback and got none (failed, timed out, cut); why. */
    feedback_error?: string;
  };
  /** With `"feedback":true`: after the last `response_chunk`, before `complete`. */
  feedback: Feedback;
  error: { error: string; code: ErrorCode };
}

export type TurnEventName = keyof TurnEventMap;
export type TurnEvent = { [K in TurnEventName]: { event: K; data: TurnEventMap[K] } }[TurnEventName];
export type TurnEventOf<K extends TurnEventName> = Extract<TurnEvent, { event: K }>;
export const TERMINAL_TURN_EVENTS: readonly TurnEventName[] = ['complete', 'error'];
