import type { Observable } from 'rxjs';

/** The compressed formats of POST /v1/audio/speech (wav and pcm need no encoder). */
export type CompressedSpeechFormat = 'mp3' | 'opus' | 'aac' | 'flac';

/** A piece of 16-bit little-endian mono PCM and its sample rate (the voice's own). */
export interface PcmChunk {
  sampleRate: number;
  pcm: Uint8Array;
}

/**
 * Encodes speech as it is synthesized: the encoded bytes come out while the PCM still comes in.
 * Unsubscribing stops the encoder and unsubscribes from the PCM (which cancels the synthesis).
 */
export interface AudioEncoder {
  encode(pcm: Observable<PcmChunk>, format: CompressedSpeechFormat): Observable<Buffer>;
}

export const AUDIO_ENCODER = Symbol('AUDIO_ENCODER');
