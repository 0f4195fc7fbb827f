import { Inject, Injectable } from '@nestjs/common';
import { ParleyError, type ChatDone, type ChatMessage, type TurnEvent } from '@parley/contracts';
import { concatMap, EMPTY, of, type Observable, type Observer } from 'rxjs';
import { SentenceSplitter } from '../../speech/sentence-splitter.js';
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

/** The LLM's answer as `response_chunk` events, cut into sentences for speech as it arrives. */
@Injectable()
export class ReplyGeneration {
  constructor(@Inject(CHAT) private readonly chat: Chat) {}

  /**
   * Streams the answer to `messages` as `response_chunk`s, filling in `reply`; each sentence is
   * passed to `sentences` as soon as it is surely finished, and `sentences` completes with the
   * answer. An answer the llm-service stopped itself (its deadline) fails with TIMEOUT.
   */
  generate(messages: ChatMessage[], reply: Reply, sentences?: Observer<string>): Observable<TurnEvent> {
    const splitter = new SentenceSplitter();
    return this.chat.chat(messages).pipe(
      concatMap((message): Observable<TurnEvent> => {
        if (message.type === 'chunk') {
          reply.firstChunkAtMs ??= performance.now();
          reply.text += message.text;
          for (const sentence of splitter.push(message.text)) sentences?.next(sentence);
          return of({ event: 'response_chunk', data: { chunk: message.text } });
        }
        if (message.stop_reason === 'cancelled') {
          throw new ParleyError('TIMEOUT', 'the answer took too long and was stopped by the llm service');
        }
        reply.done = message;
        const rest = splitter.flush();
        if (rest) sentences?.next(rest);
        sentences?.complete();
        return EMPTY;
      }),
    );
  }
}
