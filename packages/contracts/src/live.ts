import { z } from 'zod';
import { ERROR_CODES } from './errors.js';
import { difficultyField, flagField, languageField, learnerIdSchema, scenarioField, sessionIdSchema, speechRateField, textTurnRequestSchema } from './http.js';
import { requestIdSchema } from './llm.js';
import { SUBJECT_PREFIX } from './subjects.js';

/**
 * Live transcription: a stream of microphone audio owned by one stt-service replica, which finds
 * utterances (voice activity detection), transcribes them while they grow (partials) and when
 * they end (finals). The protocol is described in docs/architecture.md ("Live audio") and
 * apps/stt-service/README.md.
 *
 *  1. The caller sends `liveOpenRequestSchema` on LIVE_SUBJECTS.open (queue group: any replica
 *     may own the stream) with `streamRequest`, and reads `LiveEvent`s from the reply stream.
 *  2. The owning replica subscribes (outside any queue group) to `liveAudioSubject(request_id)`,
 *     then replies `opened`. Frames published before `opened` may be lost: wait for it.
 *  3. The caller publishes binary frames (binary-frame codec) on that subject, in order:
 *     `audio` (raw PCM16 LE mono 16 kHz bytes), `commit`, `keepalive`, `close`.
 *  4. The replica sends `heartbeat`s while the stream is open, so a dead replica is noticed by
 *     the caller's idle timeout; `close` ends the stream after the last utterance's final;
 *     the usual cancel subject (`parley.v1.stt.cancel.<request_id>`) drops it at once.
 */
export const LIVE_SAMPLE_RATE = 16_000;
/** Samples per millisecond of live audio: every `at_ms` is samples ÷ 16 (audio time, never wall clock). */
export const LIVE_SAMPLES_PER_MS = LIVE_SAMPLE_RATE / 1000;
/** Largest audio payload in one frame (as the WebSocket's binary message limit). */
export const LIVE_MAX_FRAME_BYTES = 1024 * 1024;

export const LIVE_SUBJECTS = {
  /** Open a live stream (queue group `parley-stt`). */
  open: `${SUBJECT_PREFIX}.stt.live.open`,
} as const;

/** Where the caller publishes a stream's frames; only the owning replica listens. */
export function liveAudioSubject(streamId: string): string {
  return `${SUBJECT_PREFIX}.stt.live.audio.${streamId}`;
}

/**
 * How a stream finds where utterances end. `vad`: Silero voice activity detection, with this
 * stream's own speech threshold and minimum silence when given (else the replica's STT_VAD_*
 * settings). `manual`: no detection; the audio since the previous `commit` (or `clear`) is one
 * utterance, ended by `commit` (push-to-talk, OpenAI Realtime's `turn_detection: null`).
 */
export const liveDetectionSchema = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('vad'),
    /** Speech probability above which a window is speech (Silero's threshold). */
    threshold: z.number().min(0.05).max(0.95).optional(),
    /** Silence this long ends an utterance. */
    min_silence_ms: z.number().int().min(100).max(5000).optional(),
  }),
  z.object({ mode: z.literal('manual') }),
]);
export type LiveDetection = z.infer<typeof liveDetectionSchema>;

export const liveOpenRequestSchema = z.object({
  /** The stream id: names the audio subject and the cancel subject. */
  request_id: requestIdSchema,
  /** A catalog language code as a hint to Whisper, or `auto` to detect. */
  language: z.string().regex(/^(auto|[a-z]{2,3})$/).default('auto'),
  /**
   * The caller's audio clock at the stream's first sample (samples since its connection began).
   * Every `at_ms` is on the caller's clock, so a stream reopened on another replica continues it.
   */
  start_sample: z.number().int().nonnegative().default(0),
  /** Transcribe utterances while they grow (`partial_transcription`). */
  partials: z.boolean().default(true),
  detection: liveDetectionSchema.default({ mode: 'vad' }),
});
export type LiveOpenRequest = z.input<typeof liveOpenRequestSchema>;

const pcmSchema = z
  .custom<Uint8Array>((value) => value instanceof Uint8Array, 'must be raw bytes (a binary frame field)')
  .refine((pcm) => pcm.byteLength % 2 === 0, 'PCM16 audio must have an even number of bytes')
  .refine((pcm) => pcm.byteLength <= LIVE_MAX_FRAME_BYTES, `at most ${LIVE_MAX_FRAME_BYTES} bytes per frame`);

/** One message on the audio subject, encoded with the binary-frame codec. */
export const liveInputFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('audio'),
    /** The caller's clock (samples) at the frame's first sample: a gap is filled with silence, an overlap dropped. */
    offset: z.number().int().nonnegative(),
    /** PCM 16-bit little-endian, mono, 16 kHz. */
    pcm: pcmSchema,
  }),
  /** Treat the audio so far as a finished utterance (push-to-talk). */
  z.object({ type: z.literal('commit') }),
  /** Forget the utterance in progress (no final is sent for it); `manual`: forget the audio since the last commit. */
  z.object({ type: z.literal('clear') }),
  /** "Still here" while no audio flows (the replica ends a stream silent for its idle timeout). */
  z.object({ type: z.literal('keepalive') }),
  /** No more audio: finish the utterance in progress, send its final, end the stream. */
  z.object({ type: z.literal('close') }),
]);
export type LiveInputFrame = z.infer<typeof liveInputFrameSchema>;

/** Why an utterance ended. */
export const UTTERANCE_ENDINGS = ['silence', 'commit', 'close', 'max_length'] as const;

const utteranceId = z.number().int().positive();
const atMs = z.number().int().nonnegative();

export const liveEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('opened'),
    stream_id: z.string(),
    replica: z.string(),
    sample_rate: z.literal(LIVE_SAMPLE_RATE),
    /** The replica sends a heartbeat at least this often: silence for a few of them means it is gone. */
    heartbeat_ms: z.number().int().positive(),
  }),
  /** Speech detected; `at_ms` is its onset (not the moment of detection). */
  z.object({ type: z.literal('speech_started'), utterance_id: utteranceId, at_ms: atMs }),
  /** The utterance so far (up to `through_ms`), while it is still going on. */
  z.object({ type: z.literal('partial_transcription'), utterance_id: utteranceId, transcript: z.string(), through_ms: atMs }),
  /** End of the utterance; `at_ms` is its last voiced sample. */
  z.object({ type: z.literal('speech_stopped'), utterance_id: utteranceId, at_ms: atMs, reason: z.enum(UTTERANCE_ENDINGS) }),
  /** The utterance's final transcript (`text` may be empty: nothing recognisable was said). */
  z.object({
    type: z.literal('transcription'),
    utterance_id: utteranceId,
    text: z.string(),
    language: z.string(),
    language_probability: z.number().min(0).max(1).nullable(),
    start_ms: atMs,
    end_ms: atMs,
    replica: z.string(),
  }),
  /** The utterance could not be transcribed; the stream goes on. */
  z.object({
    type: z.literal('transcription_failed'),
    utterance_id: utteranceId,
    code: z.enum(ERROR_CODES),
    message: z.string(),
  }),
  /** A `commit` found no speech to finish. */
  z.object({ type: z.literal('no_speech'), at_ms: atMs }),
  /** A frame on the audio subject was not understood; it was ignored and the stream goes on. */
  z.object({ type: z.literal('frame_rejected'), message: z.string() }),
  /** The replica is alive; `at_ms` is the audio received so far. */
  z.object({ type: z.literal('heartbeat'), at_ms: atMs }),
]);
export type LiveEvent = z.infer<typeof liveEventSchema>;
export type LiveEventType = LiveEvent['type'];

/** Metric names of live transcription (stt-service side). */
export const STT_LIVE_METRICS = {
  activeStreams: 'parley_stt_live_streams',
  utterances: 'parley_stt_live_utterances_total',
  vadSeconds: 'parley_stt_vad_processing_seconds_total',
  audioSeconds: 'parley_stt_live_audio_seconds_total',
  partials: 'parley_stt_partials_total',
  partialsDropped: 'parley_stt_partials_dropped_total',
  speechEndToFinal: 'parley_stt_speech_end_to_final_seconds',
  waitingTranscriptions: 'parley_stt_transcriptions_waiting',
} as const;

// ---- The public WebSocket: GET /api/conversation/live (../shared/API.md, "Live conversation").

/**
 * The turn settings of a live socket, validated as the HTTP turn routes validate the same fields
 * (`learner_id`, `feedback`, `native_language` are the turn options of text/speak). No defaults
 * here: a `settings` message changes only the fields it names.
 */
const liveSettingsFields = {
  language: languageField,
  difficulty: difficultyField,
  scenario: scenarioField,
  learner_id: learnerIdSchema,
  feedback: flagField,
  native_language: languageField,
  speech_rate: speechRateField,
  voice: z.string().max(100),
};

/** Query of the upgrade request. Query values are strings. */
export const liveQuerySchema = z.object({
  ...liveSettingsFields,
  language: languageField.default('en'),
  difficulty: difficultyField.default('beginner'),
  scenario: scenarioField.default('greeting'),
  session_id: sessionIdSchema.optional(),
  learner_id: learnerIdSchema.optional(),
  feedback: flagField.optional(),
  native_language: languageField.optional(),
  speech_rate: speechRateField.optional(),
  voice: liveSettingsFields.voice.optional(),
  /** For clients that cannot set headers (checked with the API keys, never logged). */
  api_key: z.string().max(200).optional(),
});
export type LiveQuery = z.infer<typeof liveQuerySchema>;

/** A text message from the client. */
export const liveClientMessageSchema = z.discriminatedUnion('type', [
  z.object(liveSettingsFields).partial().extend({ type: z.literal('settings') }),
  z.object({ type: z.literal('text'), message: textTurnRequestSchema.shape.message }),
  z.object({ type: z.literal('commit') }),
  z.object({ type: z.literal('interrupt') }),
  z.object({ type: z.literal('played'), turn_id: z.string().max(64), ms: z.number().finite().nonnegative() }),
]);
export type LiveClientMessage = z.infer<typeof liveClientMessageSchema>;

/** Largest WebSocket message; a bigger one closes the socket with 1009. */
export const LIVE_MAX_MESSAGE_BYTES = 1024 * 1024;

/** Close codes of the live socket. */
export const LIVE_CLOSE_CODES = {
  /** Idle for LIVE_IDLE_TIMEOUT_S. */
  normal: 1000,
  /** A message over LIVE_MAX_MESSAGE_BYTES. */
  tooBig: 1009,
  /** The gateway replica is shutting down: reconnect with the same session_id. */
  restarting: 1012,
} as const;

/** Events of the live socket beyond the SSE vocabulary (which they carry with a `turn_id`). */
export interface LiveSocketEventMap {
  ready: { session_id: string; sample_rate: typeof LIVE_SAMPLE_RATE };
  speech_started: { turn_id: string; at_ms: number };
  partial_transcription: { turn_id: string; transcript: string };
  speech_stopped: { turn_id: string; at_ms: number };
  interrupted: { turn_id: string; heard: string };
}

/** Metric names of live conversations (gateway side). */
export const LIVE_GATEWAY_METRICS = {
  connections: 'parley_live_connections',
  turns: 'parley_live_turns_total',
  interruptions: 'parley_live_interruptions_total',
  speechEndToTranscription: 'parley_live_speech_end_to_transcription_seconds',
  speechEndToFirstAudio: 'parley_live_speech_end_to_first_audio_seconds',
} as const;
