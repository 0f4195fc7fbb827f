import { Inject, Injectable } from '@nestjs/common';
import { ParleyError, type ChatDone, type ChatMessage, type TurnEvent } from '@parley/contracts';
import { concatMap, EMPTY, of, type Observable, type Observer } from 'rxjs';
import { MarkerStripper, runsWithoutMarkers, type LanguageRun, type SpokenSentence } from '../../speech/language-runs.js';
import { SentenceSplitter, type SentenceSpan } from '../../speech/sentence-splitter.js';
import { CHAT, type Chat } from './ports.js';

/** The answer as it streams: written by ReplyGeneration, read by the stages after it and by `complete`. */
export interface Reply {
  text: string;
  done?: ChatDone;
  startedAtMs: number;
  firstChunkAtMs?: number;
}

export function newReply(): Reply {
  return { text: '', startedAtMs: performance.now() };
}

/** Which languages an answer mixes, when its speech is to be bilingual. */
export interface BilingualAnswer {
  target: string;
  native: string;
  /** A beginner's answer is mostly in the native language (what a sentence without markers is in). */
  mostlyNative: boolean;
}

/**
 * The LLM's answer as `response_chunk` events, without the target-language markers the tutor
 * writes, cut into sentences (with their language runs) for speech as it arrives.
 */
@Injectable()
export class ReplyGeneration {
  constructor(@Inject(CHAT) private readonly chat: Chat) {}

  /**
   * Streams the answer to `messages` as `response_chunk`s, filling in `reply`; each sentence is
   * passed to `sentences` as soon as it is surely finished, and `sentences` completes with the
   * answer. An answer the llm-service stopped itself (its deadline) fails with TIMEOUT.
   */
  generate(messages: ChatMessage[], reply: Reply, sentences?: Observer<SpokenSentence>, bilingual?: BilingualAnswer): Observable<TurnEvent> {
    const splitter = new SentenceSplitter();
    const markers = new MarkerStripper();
    const spoken = (span: SentenceSpan): SpokenSentence => ({ text: span.sentence, runs: runsOf(span, markers, bilingual) });
    /** Clean text into the answer, its finished sentences to speech, and a chunk for the client. */
    const take = (clean: string): Observable<TurnEvent> => {
      if (!clean) return EMPTY;
      reply.text += clean;
      for (const span of splitter.pushSpans(clean)) sentences?.next(spoken(span));
      return of({ event: 'response_chunk', data: { chunk: clean } });
    };
    return this.chat.chat(messages).pipe(
      concatMap((message): Observable<TurnEvent> => {
        if (message.type === 'chunk') {
          reply.firstChunkAtMs ??= performance.now();
          return take(markers.push(message.text));
        }
        if (message.stop_reason === 'cancelled') {
          throw new ParleyError('TIMEOUT', 'the answer took too long and was stopped by the llm service');
        }
        reply.done = message;
        const last = take(markers.flush());
        const rest = splitter.flushSpan();
        if (rest) sentences?.next(spoken(rest));
        sentences?.complete();
        return last;
      }),
    );
  }
}

/** The language runs of a sentence: from the markers when the answer has any, else guessed. */
function runsOf(span: SentenceSpan, markers: MarkerStripper, bilingual: BilingualAnswer | undefined): LanguageRun[] {
  if (!bilingual) return [{ text: span.sentence, target: true }];
  if (!markers.marked) return runsWithoutMarkers(span.sentence, bilingual.target, bilingual.native, bilingual.mostlyNative);
  return markers.runsBetween(span.start, span.start + span.sentence.length);
}
