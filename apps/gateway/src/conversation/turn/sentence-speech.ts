import { Inject, Injectable, Logger } from '@nestjs/common';
import { hasSpeakableText, ParleyError, type TurnEvent } from '@parley/contracts';
import { catchError, concatMap, EMPTY, map, type Observable } from 'rxjs';
import { SPEECH, type Speech, type SpeechOptions } from './ports.js';

/** How the turn's speech went, for `complete`. */
export interface SpeechOutcome {
  firstAudioAtMs?: number;
  /** Set when the tts-service failed: the rest of the turn is not spoken. */
  error?: ParleyError;
}

/** Speaks the answer sentence by sentence, while later text is still being generated. */
@Injectable()
export class SentenceSpeech {
  private readonly logger = new Logger('turns');

  constructor(@Inject(SPEECH) private readonly speech: Speech) {}

  /**
   * One `audio` event per sentence, in order, numbered from 0. A sentence with nothing to say
   * (only punctuation or emoji) is skipped. If the tts-service fails, the learner still gets the
   * whole text: the remaining sentences are skipped and `outcome.error` says why.
   */
  speak(sentences: Observable<string>, options: SpeechOptions, outcome: SpeechOutcome): Observable<TurnEvent> {
    let seq = 0;
    return sentences.pipe(
      concatMap((sentence): Observable<TurnEvent> => {
        if (outcome.error || !hasSpeakableText(sentence)) return EMPTY;
        return this.speech.synthesize(sentence, options).pipe(
          map(({ wav, sampleRate }): TurnEvent => {
            outcome.firstAudioAtMs ??= performance.now();
            return { event: 'audio', data: { seq: seq++, sentence, format: 'wav', sample_rate: sampleRate, audio: wav.toString('base64') } };
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
}
