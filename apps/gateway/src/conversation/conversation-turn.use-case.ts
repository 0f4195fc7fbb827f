import { Inject, Injectable } from '@nestjs/common';
import type { SpeakRequest, TextTurnRequest, Transcription, TurnEvent } from '@parley/contracts';
import { asapScheduler, catchError, concat, defer, EMPTY, forkJoin, from, merge, mergeMap, observeOn, of, ReplaySubject, Subject, tap, type Observable } from 'rxjs';
import { AFTER_REPLY_STAGES, type AfterReplyStage } from './turn/after-reply-stage.js';
import { ConversationHistory } from './turn/conversation-history.js';
import { SPEECH_TO_TEXT, type SpeechToText } from './turn/ports.js';
import { newReply, ReplyGeneration } from './turn/reply-generation.js';
import { SentenceSpeech, type SpeechOutcome } from './turn/sentence-speech.js';
import type { SpokenSentence } from '../speech/language-runs.js';
import { turnContext, type TurnContext, type TurnOptions } from './turn/turn-context.js';
import { errorEvent } from './turn/turn-events.js';
import { TurnCompletion } from './turn/turn-completion.js';
import { TurnFeedback, type FeedbackOutcome } from './turn/turn-feedback.js';

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
    @Inject(TurnFeedback) private readonly feedback: TurnFeedback,
    @Inject(AFTER_REPLY_STAGES) private readonly afterReply: AfterReplyStage[],
  ) {}

  /**
   * A turn whose input is text. `speak`: whether the answer is also spoken sentence by sentence
   * (the request's `tts`, when the transport can deliver audio).
   */
  textTurn(request: TextTurnRequest, options: TurnOptions): Observable<TurnEvent> {
    return this.reply(turnContext(request, options), request.message);
  }

  /**
   * A spoken turn: `start`, the transcription as soon as STT is done, then the reply. `speak`
   * says whether the answer's speech is wanted (a transport that cannot deliver it says no, and
   * nothing is synthesized). No speech in the recording ends the turn with the stt-service's
   * NO_SPEECH error. Below the advanced level a learner may speak their own language ("how do you
   * say 'bill'?"): the recording is then transcribed in whichever of the two languages it is in.
   */
  speakTurn(request: SpeakRequest, audio: Uint8Array, options: TurnOptions): Observable<TurnEvent> {
    const turn = turnContext(request, options);
    const start: TurnEvent = { event: 'start', data: { status: 'transcribing', session_id: turn.sessionId } };
    return concat(
      of(start),
      this.transcribeLearner(audio, turn).pipe(
        mergeMap(({ text, language }) => {
          turn.timings.stt_ms = Math.round(performance.now() - turn.startedAtMs);
          return concat(of<TurnEvent>({ event: 'transcription', data: { text, language } }), this.reply(turn, text));
        }),
      ),
    ).pipe(catchError((error: unknown) => of(errorEvent(error))));
  }

  private transcribeLearner(audio: Uint8Array, turn: TurnContext): Observable<Transcription> {
    const { language, nativeLanguage, difficulty } = turn.settings;
    // Advanced learners speak the language practised: forcing it transcribes accents better.
    if (difficulty === 'advanced' || nativeLanguage === language) return this.stt.transcribe(audio, language);
    return this.stt.transcribe(audio, 'auto', [language, nativeLanguage]);
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
        const sentences = new Subject<SpokenSentence>();
        const feedback: FeedbackOutcome = {};
        // Feedback starts once the answer is written (it comments on it) and its speech has begun
        // (or is not wanted, or failed): it never competes with the first audio.
        const answered = signal();
        const speaking = signal();
        const bilingual = turn.nativeSpeech
          ? { target: turn.settings.language, native: turn.settings.nativeLanguage, mostlyNative: turn.settings.difficulty === 'beginner' }
          : undefined;
        const text$ = this.generation.generate(messages, reply, turn.speech ? sentences : undefined, bilingual).pipe(tap({ complete: answered.fire }));
        const voices = turn.speech && { target: turn.speech, native: turn.nativeSpeech };
        const audio$ = voices ? this.speech.speak(sentences, voices, spoken).pipe(tap({ next: speaking.fire, finalize: speaking.fire })) : EMPTY;
        if (!turn.speech) speaking.fire();
        const feedback$ = turn.feedback
          ? forkJoin([answered.fired, speaking.fired]).pipe(
              // Next tick: the audio event that fired the signal is delivered first.
              observeOn(asapScheduler),
              mergeMap(() => this.feedback.events(turn, userText, reply.text, feedback)),
            )
          : EMPTY;
        return concat(
          // Text, audio and feedback side by side (audio subscribed first: it listens for the sentences).
          merge(audio$, text$, feedback$),
          ...this.afterReply.map((stage) => defer(() => stage.events(turn, userText, reply))),
          defer(() => from(this.completion.complete(turn, userText, reply, spoken, feedback))),
        );
      }),
    );
    return concat(of(start), answer$).pipe(catchError((error: unknown) => of(errorEvent(error))));
  }
}

/** A one-time signal: `fired` emits once and completes when `fire` is first called. */
function signal(): { fire: () => void; fired: Observable<void> } {
  const subject = new ReplaySubject<void>(1);
  return {
    fire: () => {
      subject.next();
      subject.complete();
    },
    fired: subject,
  };
}
