import { Inject, Injectable } from '@nestjs/common';
import {
  OPENAI_VOICE_NAMES,
  ParleyError,
  type AudioSpeechRequest,
  type SynthesizeStreamMessage,
} from '@parley/contracts';
import { filter, map, type Observable } from 'rxjs';
import { AUDIO_ENCODER, type AudioEncoder, type CompressedSpeechFormat, type PcmChunk } from './audio-encoder.port.js';
import { SPEECH_STREAM, type SpeechStream } from './speech-stream.port.js';
import { streamingWavHeader } from './streaming-wav.js';

const OPENAI_VOICES: readonly string[] = OPENAI_VOICE_NAMES;

const CONTENT_TYPES: Record<CompressedSpeechFormat, string> = {
  mp3: 'audio/mpeg',
  opus: 'audio/ogg',
  aac: 'audio/aac',
  flac: 'audio/flac',
};

/** A piece of the answer's body; `sampleRate` for the uncompressed formats (wav, pcm), whose rate is the voice's. */
export interface SpeechBytes {
  contentType: string;
  sampleRate?: number;
  bytes: Uint8Array;
}

/**
 * OpenAI's speech over the tts-service: `voice` is a resident voice id, or one of OpenAI's names
 * (alloy, ...), which stand for the default voice of `language`; `speed` is the engine's speed.
 */
@Injectable()
export class AudioSpeechUseCase {
  constructor(
    @Inject(SPEECH_STREAM) private readonly tts: SpeechStream,
    @Inject(AUDIO_ENCODER) private readonly encoder: AudioEncoder,
  ) {}

  /** The answer's bytes as the speech is synthesized: wav (a streaming header first), raw pcm, or encoded. */
  synthesize(request: AudioSpeechRequest): Observable<SpeechBytes> {
    const pcm = this.pcm(request);
    const format = request.response_format;
    if (format === 'pcm') return pcm.pipe(map((chunk) => ({ contentType: 'audio/pcm', sampleRate: chunk.sampleRate, bytes: chunk.pcm })));
    if (format === 'wav')
      return pcm.pipe(
        map((chunk, index) => ({
          contentType: 'audio/wav',
          sampleRate: chunk.sampleRate,
          bytes: index === 0 ? Buffer.concat([streamingWavHeader(chunk.sampleRate), chunk.pcm]) : chunk.pcm,
        })),
      );
    return this.encoder.encode(pcm, format).pipe(map((bytes) => ({ contentType: CONTENT_TYPES[format], bytes })));
  }

  private pcm(request: AudioSpeechRequest): Observable<PcmChunk> {
    if (request.instructions?.trim())
      throw new ParleyError(
        'INVALID_REQUEST',
        'instructions are not supported by this server (Piper voices take none)',
      );
    const voice = OPENAI_VOICES.includes(request.voice) ? undefined : request.voice;
    return this.tts.stream(request.input, { language: request.language, voice, speed: request.speed }).pipe(
      filter((message): message is Extract<SynthesizeStreamMessage, { type: 'audio' }> => message.type === 'audio'),
      map((message) => ({ sampleRate: message.sample_rate, pcm: message.pcm })),
    );
  }
}
