import { ParleyError } from '@parley/contracts';
import { detectContainer, type AudioContainer } from './detect.js';
import { decodeWithFfmpeg } from './ffmpeg.js';
import { resampleYielding } from './resample.js';
import { decodeWavPcm, isPcmWav, parseWavHeader } from './wav.js';

export * from './detect.js';
export * from './energy.js';
export * from './ffmpeg.js';
export * from './resample.js';
export * from './wav.js';

/** whisper's input rate. */
export const WHISPER_SAMPLE_RATE = 16_000;

export interface AudioDecodeOptions {
  maxSeconds: number;
  /** ffmpeg executable for non-WAV containers; undefined if it is not available on this replica. */
  ffmpegPath: string | undefined;
  ffmpegTimeoutMs: number;
  signal?: AbortSignal;
}

export interface DecodedAudio {
  container: AudioContainer;
  /** 16 kHz mono samples in [-1, 1]. */
  samples: Float32Array;
  durationMs: number;
  /** How it was decoded: `wav` (in process) or `ffmpeg`. */
  decoder: 'wav' | 'ffmpeg';
}

const tooLong = (seconds: number, max: number) =>
  new ParleyError('PAYLOAD_TOO_LARGE', `the audio is ${seconds.toFixed(1)} s long; the limit is ${max} s`);

/**
 * Uploaded bytes → 16 kHz mono float samples. The container is read from the bytes; PCM WAV is
 * decoded here, everything else (and compressed WAV codecs) by ffmpeg.
 */
export async function decodeAudio(bytes: Uint8Array, options: AudioDecodeOptions): Promise<DecodedAudio> {
  const container = detectContainer(bytes);
  if (container === 'wav' && String.fromCharCode(...bytes.subarray(0, 4)) === 'RIFF') {
    const info = parseWavHeader(bytes);
    if (info.durationSeconds > options.maxSeconds) throw tooLong(info.durationSeconds, options.maxSeconds);
    if (isPcmWav(info)) {
      if (info.frames === 0) throw new ParleyError('INVALID_REQUEST', 'the WAV file contains no audio samples');
      const pcm = decodeWavPcm(bytes, info);
      const samples = await resampleYielding(pcm.samples, pcm.sampleRate, WHISPER_SAMPLE_RATE);
      return { container, samples, durationMs: Math.round(info.durationSeconds * 1000), decoder: 'wav' };
    }
    // Compressed WAV (µ-law, A-law, ADPCM...): ffmpeg knows them.
  }
  if (!options.ffmpegPath) {
    throw new ParleyError('ENGINE_FAILED', `cannot decode ${container} audio: ffmpeg is not available on this replica (only PCM WAV is)`);
  }
  const samples = await decodeWithFfmpeg(bytes, container, {
    ffmpegPath: options.ffmpegPath,
    sampleRate: WHISPER_SAMPLE_RATE,
    maxSeconds: options.maxSeconds,
    timeoutMs: options.ffmpegTimeoutMs,
    signal: options.signal,
  });
  return { container, samples, durationMs: Math.round((samples.length / WHISPER_SAMPLE_RATE) * 1000), decoder: 'ffmpeg' };
}
