import type { ResidentEngine } from '@parley/service-kit';

export interface TranscriptionInput {
  /** 16 kHz mono samples in [-1, 1]. */
  samples: Float32Array;
  /** A whisper language code as a hint, or `auto` to detect. */
  language: string;
  /**
   * With `auto`: the languages the speaker may be using (a learner's target and native
   * language). The transcript is in the most probable of them, whatever else whisper detects.
   */
  candidates?: string[];
}

export interface TranscriptSegment {
  /** Seconds from the start of the audio, within [0, duration]. */
  start: number;
  end: number;
  text: string;
}

export interface EngineTranscript {
  text: string;
  /** ISO 639-1 code (whisper's code, e.g. `en`, `haw`). */
  language: string;
  /** The detector's probability for `language`; null when the caller gave the language. */
  languageProbability: number | null;
  segments: TranscriptSegment[];
}

/** Something that happened to the engine's model processes (restart accounting, logs, health). */
export type EngineEvent =
  | { type: 'model-loaded'; worker: number; pid: number; loadMs: number; reload: boolean }
  | { type: 'worker-exited'; worker: number; pid: number; reason: string }
  | { type: 'worker-restarting'; worker: number; attempt: number; delayMs: number };

/** What the transcribe use case needs from a speech recogniser. */
export interface SttEngine extends ResidentEngine {
  readonly modelName: string;
  /** Starts the model process(es); resolves when all are ready. Called once per process. */
  load(): Promise<void>;
  /** Transcribes one utterance. Aborting `signal` stops the work and rejects with CANCELLED. */
  transcribe(input: TranscriptionInput, signal: AbortSignal): Promise<EngineTranscript>;
  /** Workers not ready right now (being restarted). */
  readonly unavailableWorkers: number;
  onEvent(listener: (event: EngineEvent) => void): void;
}

export const STT_ENGINE = Symbol('STT_ENGINE');
