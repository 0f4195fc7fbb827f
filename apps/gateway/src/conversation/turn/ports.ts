import type { ChatMessage, ChatStreamMessage, ResponseFormat, Transcription } from '@parley/contracts';
import type { Observable } from 'rxjs';

/**
 * What a conversation turn needs from the model services, named for what it does. The NATS
 * clients in `services/` provide them; the turn's unit tests use fakes. Every method returns a
 * cold Observable: subscribing starts the work, unsubscribing before the end cancels it in the
 * service; a service that fails or goes silent errors with a ParleyError (TIMEOUT, ...).
 */

/**
 * Transcribes a recording (any supported container); `language` is a catalog code as a hint, or
 * `auto`: then in the likeliest of `candidates` when given (a learner's target and native language).
 */
export interface SpeechToText {
  transcribe(audio: Uint8Array, language: string, candidates?: string[]): Observable<Transcription>;
}

/** What a chat may ask beyond the conversation (the tutor's answer asks for nothing). */
export interface ChatOptions {
  /** Token budget (else the gateway's LLM_MAX_TOKENS). */
  maxTokens?: number;
  /** JSON output: the last `done` then carries the parsed `value`. */
  responseFormat?: ResponseFormat;
}

/** Streams an answer to the conversation so far: text chunks, then one `done`. */
export interface Chat {
  chat(messages: ChatMessage[], options?: ChatOptions): Observable<ChatStreamMessage>;
}

export interface SpeechOptions {
  language: string;
  voice?: string;
  /** Engine speed: 1 normal, 2 twice as fast (the inverse of the API's speech_rate). */
  speed: number;
}

export interface SpokenAudio {
  /** A complete 16-bit PCM mono WAV file. */
  wav: Buffer;
  sampleRate: number;
}

/** Speaks a text, answering once with the whole WAV. */
export interface Speech {
  synthesize(text: string, options: SpeechOptions): Observable<SpokenAudio>;
}

export const SPEECH_TO_TEXT = Symbol('SPEECH_TO_TEXT');
export const CHAT = Symbol('CHAT');
export const SPEECH = Symbol('SPEECH');
