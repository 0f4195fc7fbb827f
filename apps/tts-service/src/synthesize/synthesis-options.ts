export interface SynthesisOptions {
  /** Ceiling on one generation. */
  generationTimeoutMs: number;
  /** Larger audio chunks are split so that no message exceeds the broker's payload limit. */
  maxPcmBytesPerMessage: number;
}

export const SYNTHESIS_OPTIONS = Symbol('SYNTHESIS_OPTIONS');

/** 128 KiB: ~3 s of 22.05 kHz audio per message, far below NATS's default 1 MB limit. */
export const MAX_PCM_BYTES_PER_MESSAGE = 128 * 1024;
