import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  buildSystemPrompt,
  ParleyError,
  SPEECH_RATE_BY_DIFFICULTY,
  type ChatDone,
  type ChatMessage,
  type Difficulty,
  type SpeakRequest,
  type SseEvent,
  type StoredMessage,
  type Transcription,
  type TextTurnRequest,
  type TutorSettings,
} from '@parley/contracts';
import { catchError, concat, concatMap, defer, EMPTY, from, map, merge, mergeMap, of, Subject, type Observable } from 'rxjs';
import type { GatewayConfig } from '../config.js';
import { LlmClient } from '../services/llm.client.js';
import { SttClient } from '../services/stt.client.js';
import { TtsClient, type SpeechOptions } from '../services/tts.client.js';
import { SESSION_STORE, type SessionStore } from '../sessions/session-store.port.js';
import { SentenceSplitter } from '../speech/sentence-splitter.js';
import { GATEWAY_CONFIG } from '../tokens.js';

export interface TurnContext {
  sessionId: string;
  settings: TutorSettings;
  /** History sent by the client; when absent, the session's stored history is used. */
  history?: StoredMessage[];
  /** When set, each sentence of the answer is also spoken, in `audio` events. */
  speech?: SpeechOptions;
  /** When the turn began (performance.now()), for the timings in `complete`. */
  startedAtMs: number;
  /** Timings measured before the reply (transcription), merged into `complete`. */
  timings?: Record<string, number>;
  /** false: `complete` does not store the turn (a live turn stores what was heard, when it was heard). */
  store?: boolean;
}

export function newSessionId(): string {
  return crypto.randomUUID();
}

/** Engine speed from the API's speech_rate (a duration scale: 1.2 is 20% slower), or from the difficulty. */
export function speechSpeed(speechRate: number | undefined, difficulty: Difficulty): number {
  return 1 / (speechRate ?? SPEECH_RATE_BY_DIFFICULTY[difficulty]);
}

/** The context of a turn from the request's fields: a new session when it names none. */
export function turnContext(request: {
  session_id?: string;
  language: string;
  difficulty: string;
  scenario: string;
  history?: StoredMessage[];
  tts?: boolean;
  speech_rate?: number;
  voice?: string;
}): TurnContext {
  const settings = { language: request.language, difficulty: request.difficulty, scenario: request.scenario } as TutorSettings;
  return {
    sessionId: request.session_id ?? newSessionId(),
    settings,
    history: request.history,
    speech: request.tts
      ? { language: settings.language, voice: request.voice, speed: speechSpeed(request.speech_rate, settings.difficulty) }
      : undefined,
    startedAtMs: performance.now(),
  };
}

export function errorEvent(error: unknown): SseEvent {
  const failure = ParleyError.from(error);
  return { event: 'error', data: { error: failure.message, code: failure.code } };
}

interface ReplyOutcome {
  fullResponse: string;
  done?: ChatDone;
  llmStartedMs: number;
  firstChunkMs?: number;
  firstAudioMs?: number;
  audioError?: ParleyError;
}

/**
 * One conversation turn, as the SSE vocabulary: `response_start`, the LLM's text as
 * `response_chunk`s, with speech each sentence's `audio` as soon as it is synthesized (while
 * later text is still generating), then exactly one `complete` (after the turn is stored) or one
 * `error`. Unsubscribing cancels generation and synthesis, and nothing is stored.
 */
@Injectable()
export class ConversationTurnUseCase {
  private readonly logger = new Logger('turns');

  constructor(
    @Inject(LlmClient) private readonly llm: LlmClient,
    @Inject(TtsClient) private readonly tts: TtsClient,
    @Inject(SttClient) private readonly stt: SttClient,
    @Inject(SESSION_STORE) private readonly sessions: SessionStore,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** A turn whose input is text (POST /api/conversation/text and /text-stream). */
  textTurn(request: TextTurnRequest): Observable<SseEvent> {
    return this.reply(turnContext(request), request.message);
  }

  /** What the learner said, as text (POST /api/conversation/transcribe). */
  transcribe(audio: Uint8Array, language: string): Observable<Transcription> {
    return this.stt.transcribe(audio, language);
  }

  /**
   * A spoken turn (POST /api/conversation/speak and /speak-stream): `start`, the transcription
   * as soon as STT is done, then the reply with its speech. Nothing recognised ends the turn with
   * NO_SPEECH.
   */
  speakTurn(request: SpeakRequest, audio: Uint8Array): Observable<SseEvent> {
    const turn = turnContext({ ...request, tts: true });
    const start: SseEvent = { event: 'start', data: { status: 'transcribing', session_id: turn.sessionId } };
    return concat(
      of(start),
      this.stt.transcribe(audio, request.language).pipe(
        mergeMap((transcription) => {
          const text = transcription.text.trim();
          if (!text) throw new ParleyError('NO_SPEECH', 'no speech was recognised in the recording; please speak and try again');
          turn.timings = { stt_ms: Math.round(performance.now() - turn.startedAtMs) };
          const heard: SseEvent = { event: 'transcription', data: { text, language: transcription.language } };
          return concat(of(heard), this.reply(turn, text));
        }),
      ),
    ).pipe(catchError((error: unknown) => of(errorEvent(error))));
  }

  reply(turn: TurnContext, userText: string): Observable<SseEvent> {
    const start: SseEvent = { event: 'response_start', data: { status: 'generating', session_id: turn.sessionId } };
    return concat(
      of(start),
      defer(async () => this.chatMessages(turn, userText)).pipe(
        mergeMap((messages) => this.generate(turn, userText, messages)),
      ),
    ).pipe(catchError((error: unknown) => of(errorEvent(error))));
  }

  private async chatMessages(turn: TurnContext, userText: string): Promise<ChatMessage[]> {
    const history = turn.history ?? (await this.sessions.messages(turn.sessionId));
    const recent = this.config.historyTurns === 0 ? [] : history.slice(-2 * this.config.historyTurns);
    return [
      { role: 'system', content: buildSystemPrompt(turn.settings) },
      ...recent.map(({ role, content }) => ({ role, content })),
      { role: 'user', content: userText },
    ];
  }

  private generate(turn: TurnContext, userText: string, messages: ChatMessage[]): Observable<SseEvent> {
    return defer(() => {
      const outcome: ReplyOutcome = { fullResponse: '', llmStartedMs: performance.now() };
      const splitter = new SentenceSplitter();
      const sentences = new Subject<string>();

      const text$ = this.llm.chat(messages).pipe(
        concatMap((message): Observable<SseEvent> => {
          if (message.type === 'chunk') {
            outcome.firstChunkMs ??= performance.now();
            outcome.fullResponse += message.text;
            for (const sentence of splitter.push(message.text)) sentences.next(sentence);
            return of({ event: 'response_chunk', data: { chunk: message.text } });
          }
          if (message.stop_reason === 'cancelled') {
            throw new ParleyError('TIMEOUT', 'the answer took too long and was stopped by the llm service');
          }
          outcome.done = message;
          const rest = splitter.flush();
          if (rest) sentences.next(rest);
          sentences.complete();
          return EMPTY;
        }),
      );
      const audio$ = turn.speech ? this.speak(sentences, turn.speech, outcome) : EMPTY;
      // The text and the audio run side by side; `complete` comes when both are done.
      return concat(
        merge(audio$, text$),
        defer(() => from(this.complete(turn, userText, outcome))),
      );
    });
  }

  /**
   * Synthesizes the sentences one after another, in order, as they arrive. If the tts-service
   * fails, the learner still gets the whole text: the remaining sentences are skipped and
   * `complete` says why audio is missing.
   */
  private speak(sentences: Observable<string>, speech: SpeechOptions, outcome: ReplyOutcome): Observable<SseEvent> {
    return sentences.pipe(
      concatMap((sentence, seq): Observable<SseEvent> => {
        if (outcome.audioError) return EMPTY;
        return this.tts.synthesizeWav(sentence, speech).pipe(
          map(({ wav, sampleRate }): SseEvent => {
            outcome.firstAudioMs ??= performance.now();
            return {
              event: 'audio',
              data: { seq, sentence, format: 'wav', sample_rate: sampleRate, audio: wav.toString('base64') },
            };
          }),
          catchError((error: unknown) => {
            outcome.audioError = ParleyError.from(error);
            this.logger.warn(`speech unavailable for the rest of this turn: ${outcome.audioError.message}`);
            return EMPTY;
          }),
        );
      }),
    );
  }

  private async complete(turn: TurnContext, userText: string, outcome: ReplyOutcome): Promise<SseEvent> {
    const language = turn.settings.language;
    try {
      if (turn.store !== false) await this.sessions.appendTurn(turn.sessionId, [
        { role: 'user', content: userText, language },
        { role: 'assistant', content: outcome.fullResponse, language },
      ]);
    } catch (error) {
      // The learner already has the answer: losing it from history is bad, failing the turn is worse.
      this.logger.error(`turn of session ${turn.sessionId} not stored: ${String(error)}`);
    }
    const now = performance.now();
    const since = (mark: number | undefined, from: number) => Math.round((mark ?? now) - from);
    return {
      event: 'complete',
      data: {
        full_response: outcome.fullResponse,
        language,
        session_id: turn.sessionId,
        timings: {
          ...turn.timings,
          llm_first_chunk_ms: since(outcome.firstChunkMs, outcome.llmStartedMs),
          llm_ms: since(now, outcome.llmStartedMs),
          ...(turn.speech && outcome.firstAudioMs ? { first_audio_ms: since(outcome.firstAudioMs, turn.startedAtMs) } : {}),
          total_ms: since(now, turn.startedAtMs),
        },
        usage: {
          prompt_tokens: outcome.done?.prompt_tokens ?? 0,
          completion_tokens: outcome.done?.completion_tokens ?? 0,
        },
        ...(turn.speech
          ? { audio_available: !outcome.audioError, ...(outcome.audioError ? { audio_error: outcome.audioError.message } : {}) }
          : {}),
      },
    };
  }
}
