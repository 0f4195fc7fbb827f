import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  buildSystemPrompt,
  ParleyError,
  type ChatDone,
  type ChatMessage,
  type SseEvent,
  type StoredMessage,
  type TextTurnRequest,
  type TutorSettings,
} from '@parley/contracts';
import { catchError, concat, defer, from, mergeMap, of, type Observable } from 'rxjs';
import type { GatewayConfig } from '../config.js';
import { LlmClient } from '../services/llm.client.js';
import { SESSION_STORE, type SessionStore } from '../sessions/session-store.port.js';
import { GATEWAY_CONFIG } from '../tokens.js';

export interface TurnContext {
  sessionId: string;
  settings: TutorSettings;
  /** History sent by the client; when absent, the session's stored history is used. */
  history?: StoredMessage[];
  /** When the turn began (performance.now()), for the timings in `complete`. */
  startedAtMs: number;
}

export function newSessionId(): string {
  return crypto.randomUUID();
}

/** The context of a turn from the request's fields: a new session when it names none. */
export function turnContext(request: {
  session_id?: string;
  language: string;
  difficulty: string;
  scenario: string;
  history?: StoredMessage[];
}): TurnContext {
  return {
    sessionId: request.session_id ?? newSessionId(),
    settings: { language: request.language, difficulty: request.difficulty, scenario: request.scenario } as TutorSettings,
    history: request.history,
    startedAtMs: performance.now(),
  };
}

export function errorEvent(error: unknown): SseEvent {
  const failure = ParleyError.from(error);
  return { event: 'error', data: { error: failure.message, code: failure.code } };
}

/**
 * One conversation turn, as the SSE vocabulary: `response_start`, the LLM's text as
 * `response_chunk`s, then exactly one `complete` (after the turn is stored) or one `error`.
 * Unsubscribing cancels the generation and nothing is stored.
 */
@Injectable()
export class ConversationTurnUseCase {
  private readonly logger = new Logger('turns');

  constructor(
    @Inject(LlmClient) private readonly llm: LlmClient,
    @Inject(SESSION_STORE) private readonly sessions: SessionStore,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** A turn whose input is text (POST /api/conversation/text and /text-stream). */
  textTurn(request: TextTurnRequest): Observable<SseEvent> {
    return this.reply(turnContext(request), request.message);
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
    let fullResponse = '';
    let firstChunkMs: number | undefined;
    const llmStartedMs = performance.now();
    return this.llm.chat(messages).pipe(
      mergeMap((message): Observable<SseEvent> => {
        if (message.type === 'chunk') {
          firstChunkMs ??= performance.now();
          fullResponse += message.text;
          return of({ event: 'response_chunk', data: { chunk: message.text } });
        }
        if (message.stop_reason === 'cancelled') {
          throw new ParleyError('TIMEOUT', 'the answer took too long and was stopped by the llm service');
        }
        return from(this.complete(turn, userText, fullResponse, message, { llmStartedMs, firstChunkMs }));
      }),
    );
  }

  private async complete(
    turn: TurnContext,
    userText: string,
    fullResponse: string,
    done: ChatDone,
    marks: { llmStartedMs: number; firstChunkMs?: number },
  ): Promise<SseEvent> {
    const language = turn.settings.language;
    try {
      await this.sessions.appendTurn(turn.sessionId, [
        { role: 'user', content: userText, language },
        { role: 'assistant', content: fullResponse, language },
      ]);
    } catch (error) {
      // The learner already has the answer: losing it from history is bad, failing the turn is worse.
      this.logger.error(`turn of session ${turn.sessionId} not stored: ${String(error)}`);
    }
    const now = performance.now();
    return {
      event: 'complete',
      data: {
        full_response: fullResponse,
        language,
        session_id: turn.sessionId,
        timings: {
          llm_first_chunk_ms: Math.round((marks.firstChunkMs ?? now) - marks.llmStartedMs),
          llm_ms: Math.round(now - marks.llmStartedMs),
          total_ms: Math.round(now - turn.startedAtMs),
        },
        usage: { prompt_tokens: done.prompt_tokens, completion_tokens: done.completion_tokens },
      },
    };
  }
}
