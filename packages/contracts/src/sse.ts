import type { ErrorCode } from './errors.js';

/**
 * The SSE vocabulary of ../shared/API.md. Every stream ends with exactly one `complete` or one
 * `error`; the `response_chunk`s concatenate to `full_response`.
 */
export interface SseEventMap {
  start: { status: 'transcribing'; session_id: string };
  transcription: { text: string; language: string };
  response_start: { status: 'generating'; session_id: string };
  response_chunk: { chunk: string };
  audio: { seq: number; sentence: string; format: 'wav'; sample_rate: number; audio: string };
  complete: {
    full_response: string;
    language: string;
    session_id: string;
    timings: Record<string, number>;
    /** Parley extension: what the LLM read and wrote for this turn. */
    usage?: { prompt_tokens: number; completion_tokens: number };
    /** Parley extension: false when speech was asked for but the tts-service failed mid-turn. */
    audio_available?: boolean;
    audio_error?: string;
  };
  error: { error: string; code: ErrorCode };
}

export type SseEventName = keyof SseEventMap;
export type SseEvent = { [K in SseEventName]: { event: K; data: SseEventMap[K] } }[SseEventName];
export const TERMINAL_EVENTS: readonly SseEventName[] = ['complete', 'error'];
