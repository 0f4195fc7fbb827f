import { Inject, Injectable } from '@nestjs/common';
import {
  isLanguageCode,
  LANGUAGES,
  ParleyError,
  type AudioTranscriptionRequest,
  type Transcription,
} from '@parley/contracts';
import { catchError, map, of, type Observable } from 'rxjs';
import { SPEECH_TO_TEXT, type SpeechToText } from '../conversation/turn/ports.js';
import type { TranscriptForFormats } from './transcript-formats.js';

/** Refuses what the stt-service cannot honour, by name, rather than ignoring it. */
function checkSupported(request: AudioTranscriptionRequest): void {
  const refuse = (what: string) => new ParleyError('INVALID_REQUEST', `${what} is not supported by this server`);
  if (request.prompt?.trim()) throw refuse('prompt (a transcription prompt)');
  if (request.temperature !== undefined && request.temperature !== 0) throw refuse('temperature other than 0');
  const granularities = [request['timestamp_granularities[]'] ?? []].flat();
  if (granularities.includes('word')) throw refuse("timestamp_granularities 'word' (segments only)");
}

/**
 * OpenAI's transcription over the stt-service. A recording without speech is an empty transcript
 * (as OpenAI answers), not the 422 of Parley's own route.
 */
@Injectable()
export class AudioTranscriptionsUseCase {
  constructor(@Inject(SPEECH_TO_TEXT) private readonly stt: SpeechToText) {}

  transcribe(audio: Uint8Array, request: AudioTranscriptionRequest): Observable<TranscriptForFormats> {
    checkSupported(request);
    return this.stt.transcribe(audio, request.language ?? 'auto').pipe(
      map((transcription: Transcription) => ({
        text: transcription.text,
        // OpenAI names the language in English ("spanish"); a code outside the catalog stays a code.
        language: isLanguageCode(transcription.language)
          ? LANGUAGES[transcription.language].name.toLowerCase()
          : transcription.language,
        duration: transcription.duration_ms / 1000,
        segments: transcription.segments,
      })),
      catchError((error: unknown) => {
        if (ParleyError.from(error).code !== 'NO_SPEECH') throw error;
        return of({
          text: '',
          language: request.language ? LANGUAGES[request.language as keyof typeof LANGUAGES].name.toLowerCase() : '',
          duration: 0,
          segments: [],
        });
      }),
    );
  }
}
