/** What the live stream needs from a voice activity detector, in sample indices of the stream. */
export type VoiceActivity =
  /** Speech reached the minimum duration; `start` is its onset (earlier than the detection). */
  | { type: 'speech_started'; start: number }
  /** The segment ended after the minimum silence; `end` is exclusive (the VAD's end, before trimming). */
  | { type: 'speech_ended'; start: number; end: number };

export interface VoiceActivityDetector {
  /** Feeds 16 kHz mono samples; returns what happened inside them, in order. */
  accept(samples: Float32Array): VoiceActivity[];
  /** Closes the open segment (if any) at the audio fed so far. */
  flush(): VoiceActivity[];
  /** Whether a segment is open. */
  readonly inSpeech: boolean;
  /** Gives the detector back (its state is forgotten). */
  release(): void;
}

export interface VadSettings {
  /** Speech probability above which a window counts as speech (Silero `threshold`). */
  threshold: number;
  /** Speech shorter than this starts nothing (a cough, a click). */
  minSpeechMs: number;
  /** Silence this long ends an utterance. */
  minSilenceMs: number;
  /** Past this, the detector ends the utterance at the next short pause (threshold 0.9, silence 0.1 s). */
  maxSpeechMs: number;
}

/** What one stream may set for itself (OpenAI Realtime's server VAD `threshold` and `silence_duration_ms`). */
export type VadOverrides = Partial<Pick<VadSettings, 'threshold' | 'minSilenceMs'>>;

/** Hands out detectors, one per live stream. */
export interface VoiceActivityDetectorPool {
  /** Loads the model once (throws if it cannot: the stream is refused, the service stays up). */
  load(): Promise<void>;
  /** A detector with the pool's settings, or with a stream's own threshold and minimum silence. */
  acquire(overrides?: VadOverrides): VoiceActivityDetector;
  readonly settings: VadSettings;
}

export const VAD_POOL = Symbol('VAD_POOL');
