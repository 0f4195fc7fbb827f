import { Inject, Injectable } from '@nestjs/common';
import {
  OPENAI_VOICE_NAMES,
  ParleyError,
  type AudioSpeechRequest,
  type SynthesizeStreamMessage,
} from '@parley/contracts';
import type { Observable } from 'rxjs';
import { SPEECH_STREAM, type SpeechStream } from './speech-stream.port.js';

const OPENAI_VOICES: readonly string[] = OPENAI_VOICE_NAMES;

/**
 * OpenAI's speech over the tts-service: `voice` is a resident voice id, or one of OpenAI's names
 * (alloy, ...), which stand for the default voice of `language`; `speed` is the engine's speed.
 */
@Injectable()
export class AudioSpeechUseCase {
  constructor(@Inject(SPEECH_STREAM) private readonly tts: SpeechStream) {}

  synthesize(request: AudioSpeechRequest): Observable<SynthesizeStreamMessage> {
    if (request.response_format !== 'wav' && request.response_format !== 'pcm') {
      throw new ParleyError(
        'INVALID_REQUEST',
        `response_format ${request.response_format} is not supported by this server; use wav or pcm`,
      );
    }
    if (request.instructions?.trim())
      throw new ParleyError(
        'INVALID_REQUEST',
        'instructions are not supported by this server (Piper voices take none)',
      );
    const voice = OPENAI_VOICES.includes(request.voice) ? undefined : request.voice;
    return this.tts.stream(request.input, { language: request.language, voice, speed: request.speed });
  }
}
