import type { ResidentEngine } from '@parley/service-kit';

/** A resident voice, as known once the engine has loaded it. */
export interface VoiceInfo {
  id: string;
  /** Language codes this voice speaks (lower case), e.g. ["en"]. */
  languages: string[];
  sampleRate: number;
  /** Valid speaker ids are 0 .. speakers-1. */
  speakers: number;
}

export interface SynthesisRequest {
  voice: string;
  text: string;
  speakerId: number;
  speed: number;
}

export interface SynthesisResult {
  sampleRate: number;
  /** Samples passed to `onAudio`. */
  samples: number;
  /** True when `signal` stopped the synthesis before its end. */
  stopped: boolean;
}

/** What the synthesis use case needs from a speech synthesizer. */
export interface TtsEngine extends ResidentEngine {
  /** The voice ids, joined (what health reports as the model). */
  readonly modelName: string;
  /** The voice used for a language that has none. */
  readonly defaultVoice: string;
  /** Loads every configured voice; called once per process. */
  load(): Promise<void>;
  /** The resident voices (empty until loaded). */
  voices(): readonly VoiceInfo[];
  /**
   * Synthesizes `text`, calling `onAudio` with each chunk of float samples (one batch of
   * sentences) as it is produced. Aborting `signal` stops consuming at once and resolves with
   * `stopped: true`; the native work ends a batch later.
   */
  synthesize(request: SynthesisRequest, onAudio: (samples: Float32Array) => void, signal: AbortSignal): Promise<SynthesisResult>;
}

export const TTS_ENGINE = Symbol('TTS_ENGINE');
