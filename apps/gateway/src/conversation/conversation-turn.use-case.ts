import { Inject, Injectable } from '@nestjs/common';
import type { SpeakRequest, TextTurnRequest, Transcription, TurnEvent } from '@parley/contracts';
import { catchError, concat, defer, EMPTY, from, merge, mergeMap, of, Subject, type Observable } from 'rxjs';
import { AFTER_REPLY_STAGES, type AfterReplyStage } from './turn/after-reply-stage.js';
import { ConversationHistory } from './turn/conversation-history.js';
import { SPEECH_TO_TEXT, type SpeechToText } from './turn/ports.js';
import { newReply, ReplyGeneration } from './turn/reply-generation.js';
import { SentenceSpeech, type SpeechOutcome } from './turn/sentence-speech.js';
import { turnContext, type TurnContext } from './turn/turn-context.js';
import { errorEvent } from './turn/turn-events.js';
import { TurnCompletion } from './turn/turn-completion.js';

/**
 * One conversation turn as turn events: (`start`, `transcription` for a spoken turn),
 * `response_start`, the LLM's text as `response_chunk`s with, when speech is asked for, each
 * sentence's `audio` as soon as it is synthesized (while later text is still generating), the
 * events of any after-reply stages, then exactly one `complete` (after the turn is stored) or
 * one `error`. Unsubscribing cancels transcription, generation and synthesis; nothing is stored.
 * Transports (SSE, blocking JSON) only write these events; they decide nothing here.
 */
@Injectable()
export class ConversationTurnUseCase {
  constructor(
    @Inject(SPEECH_TO_TEXT) private readonly stt: SpeechToText,
    @Inject(ConversationHistory) private readonly history: ConversationHistory,
    @Inject(ReplyGeneration) private readonly generation: ReplyGeneration,
    @Inject(SentenceSpeech) private readonly speech: SentenceSpeech,
    @Inject(TurnCompletion) private readonly completion: TurnCompletion,
    @Inject(AFTER_REPLY_STAGES) private readonly afterReply: AfterReplyStage[],
  ) {}

  /**
   * A turn whose input is text. `speak`: whether the answer is also spoken sentence by sentence
   * (the request's `tts`, when the transport can deliver audio).
   */
  textTurn(request: TextTurnRequest, options: { speak: boolean }): Observable<TurnEvent> {
    return this.reply(turnContext(request, options), request.message);
  }

  /**
   * A spoken turn: `start`, the transcription as soon as STT is done, then the reply. `speak`
   * says whether the answer's speech is wanted (a transport that cannot deliver it says no, and
   * nothing is synthesized). No speech in the recording ends the turn with the stt-service's
   * NO_SPEECH error.
   */
  speakTurn(request: SpeakRequest, audio: Uint8Array, options: { speak: boolean }): Observable<TurnEvent> {
    const turn = turnContext(request, options);
    const start: TurnEvent = { event: 'start', data: { status: 'transcribing', session_id: turn.sessionId } };
    return concat(
      of(start),
      this.stt.transcribe(audio, request.language).pipe(
        mergeMap(({ text, language }) => {
          turn.timings.stt_ms = Math.round(performance.now() - turn.startedAtMs);
          return concat(of<TurnEvent>({ event: 'transcription', data: { text, language } }), this.reply(turn, text));
        }),
      ),
    ).pipe(catchError((error: unknown) => of(errorEvent(error))));
  }

  /** What the learner said, as text (the transcribe route: no turn, nothing stored). */
  transcribe(audio: Uint8Array, language: string): Observable<Transcription> {
    return this.stt.transcribe(audio, language);
  }

  /**
   * The answer to words already transcribed (a live conversation's utterance or typed text):
   * `response_start`, chunks, audio, after-reply stages, `complete` or `error`. With
   * `turn.store === false` the caller stores the turn itself (what was heard of it).
   */
  answer(turn: TurnContext, userText: string): Observable<TurnEvent> {
    return this.reply(turn, userText);
  }

  private reply(turn: TurnContext, userText: string): Observable<TurnEvent> {
    const start: TurnEvent = { event: 'response_start', data: { status: 'generating', session_id: turn.sessionId } };
    const answer$ = defer(() => this.history.chatMessages(turn, userText)).pipe(
      mergeMap((messages) => {
        const reply = newReply();
        const spoken: SpeechOutcome = {};
        const sentences = new Subject<string>();
        const text$ = this.generation.generate(messages, reply, turn.speech ? sentences : undefined);
        const audio$ = turn.speech ? this.speech.speak(sentences, turn.speech, spoken) : EMPTY;
        return concat(
          // Text and audio side by side (audio subscribed first: it listens for the sentences).
          merge(audio$, text$),
          ...this.afterReply.map((stage) => defer(() => stage.events(turn, userText, reply))),
          defer(() => from(this.completion.complete(turn, userText, reply, spoken))),
        );
      }),
    );
    return concat(of(start), answer$).pipe(catchError((error: unknown) => of(errorEvent(error))));
  }
}
