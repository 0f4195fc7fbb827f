import { Inject, Injectable, Logger } from '@nestjs/common';
import { hasSpeakableText, ParleyError, type TurnEvent } from '@parley/contracts';
import { catchError, concatMap, EMPTY, from, map, toArray, type Observable } from 'rxjs';
import type { LanguageRun, SpokenSentence } from '../../speech/language-runs.js';
import { pcm16Wav } from '../../speech/wav.js';
import { SPEECH, type Speech, type SpeechOptions, type SpokenAudio } from './ports.js';

/** How the turn's speech went, for `complete`. */
export interface SpeechOutcome {
  firstAudioAtMs?: number;
  /** Set when the tts-service failed: the rest of the turn is not spoken. */
  error?: ParleyError;
}

/** The voices of a turn: the target language's, and the native language's for a bilingual answer. */
export interface TurnVoices {
  target: SpeechOptions;
  native?: SpeechOptions;
}

/** Bytes of the header `pcm16Wav` writes before the samples. */
const WAV_HEADER_BYTES = 44;

/** Speaks the answer sentence by sentence, while later text is still being generated. */
@Injectable()
export class SentenceSpeech {
  private readonly logger = new Logger('turns');

  constructor(@Inject(SPEECH) private readonly speech: Speech) {}

  /**
   * One `audio` event per sentence, in order, numbered from 0. A sentence with nothing to say
   * (only punctuation or emoji) is skipped. A sentence mixing languages is spoken run by run, each
   * with a voice of its language, joined into one WAV. If the tts-service fails, the learner still
   * gets the whole text: the remaining sentences are skipped and `outcome.error` says why.
   */
  speak(sentences: Observable<SpokenSentence>, voices: TurnVoices, outcome: SpeechOutcome): Observable<TurnEvent> {
    let seq = 0;
    return sentences.pipe(
      concatMap((sentence): Observable<TurnEvent> => {
        if (outcome.error || !hasSpeakableText(sentence.text)) return EMPTY;
        return this.sentenceAudio(sentence, voices).pipe(
          map(({ wav, sampleRate }): TurnEvent => {
            outcome.firstAudioAtMs ??= performance.now();
            const data = { seq: seq++, sentence: sentence.text, format: 'wav' as const, sample_rate: sampleRate, audio: wav.toString('base64') };
            return { event: 'audio', data };
          }),
          catchError((error: unknown) => {
            outcome.error = ParleyError.from(error);
            this.logger.warn(`speech unavailable for the rest of this turn: ${outcome.error.message}`);
            return EMPTY;
          }),
        );
      }),
    );
  }

  private sentenceAudio(sentence: SpokenSentence, voices: TurnVoices): Observable<SpokenAudio> {
    const voiceOf = (run: LanguageRun) => (run.target || !voices.native ? voices.target : voices.native);
    const runs = sentence.runs.filter((run) => hasSpeakableText(run.text));
    if (runs.length <= 1) return this.speech.synthesize(sentence.text, voiceOf(runs[0] ?? { text: '', target: true }));
    return from(runs).pipe(
      concatMap((run) => this.speech.synthesize(run.text, voiceOf(run))),
      toArray(),
      concatMap((parts) => {
        const sampleRate = parts[0]!.sampleRate;
        if (parts.every((part) => part.sampleRate === sampleRate)) {
          return [{ wav: pcm16Wav(parts.map((part) => part.wav.subarray(WAV_HEADER_BYTES)), sampleRate), sampleRate }];
        }
        // Voices at different sample rates cannot be joined as they are: one voice for the sentence.
        this.logger.warn(`voices at different sample rates (${parts.map((p) => p.sampleRate).join(', ')} Hz): one voice speaks the sentence`);
        return this.speech.synthesize(sentence.text, voices.target);
      }),
    );
  }
}
