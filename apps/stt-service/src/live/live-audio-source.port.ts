import type { LiveInputFrame } from '@parley/contracts';

export interface LiveAudioHandlers {
  frame(frame: LiveInputFrame): void;
  /** A message that is not a valid frame (said why); it is ignored. */
  invalid(reason: string): void;
}

/** Where a live stream's frames come from (the per-stream NATS subject). */
export interface LiveAudioSource {
  /** Resolves once frames published from now on will be delivered. */
  listen(streamId: string, handlers: LiveAudioHandlers): Promise<{ close(): void }>;
}

export const LIVE_AUDIO_SOURCE = Symbol('LIVE_AUDIO_SOURCE');
