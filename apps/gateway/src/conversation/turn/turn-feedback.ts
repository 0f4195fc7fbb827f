import { Inject, Injectable, Logger } from '@nestjs/common';
import { feedbackSchema, ParleyError, type ChatStreamMessage, type Feedback, type TurnEvent } from '@parley/contracts';
import { catchError, defer, EMPTY, filter, last, map, throwError, timeout, type Observable } from 'rxjs';
import type { GatewayConfig } from '../../config.js';
import { GATEWAY_CONFIG } from '../../tokens.js';
import { buildFeedbackPrompt } from '../prompts.js';
import { CHAT, type Chat } from './ports.js';
import type { TurnContext } from './turn-context.js';

/** How the turn's feedback went, for `complete` and the learner's progress. */
export interface FeedbackOutcome {
  feedback?: Feedback;
  /** Set when feedback was asked for and none came: why. */
  error?: string;
}

/**
 * A turn's feedback: corrections of the learner's words, the answer translated into their native
 * language, the answer's new words. One grammar-constrained generation with its own token budget
 * (FEEDBACK_MAX_TOKENS) and deadline (FEEDBACK_TIMEOUT_MS). Optional by nature: when it fails,
 * the turn goes on without it and `outcome.error` says why.
 */
@Injectable()
export class TurnFeedback {
  private readonly logger = new Logger('turns');

  constructor(
    @Inject(CHAT) private readonly chat: Chat,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** One `feedback` event, or none. Unsubscribing cancels the generation. */
  events(turn: TurnContext, userText: string, answer: string, outcome: FeedbackOutcome): Observable<TurnEvent> {
    const { feedbackMaxTokens, feedbackTimeoutMs } = this.config;
    return defer(() => {
      const { messages, schema } = buildFeedbackPrompt(turn.settings, userText, answer);
      return this.chat.chat(messages, { maxTokens: feedbackMaxTokens, responseFormat: { type: 'json_schema', schema } });
    }).pipe(
      filter((message) => message.type === 'done'),
      last(),
      map((done) => this.feedbackFrom(done)),
      timeout({
        first: feedbackTimeoutMs,
        with: () => throwError(() => new ParleyError('TIMEOUT', `the feedback took longer than ${feedbackTimeoutMs} ms`)),
      }),
      map((feedback): TurnEvent => {
        outcome.feedback = feedback;
        return { event: 'feedback', data: feedback };
      }),
      catchError((error: unknown) => {
        outcome.error = ParleyError.from(error).message;
        this.logger.warn(`no feedback for a turn of session ${turn.sessionId}: ${outcome.error}`);
        return EMPTY;
      }),
    );
  }

  /** The feedback in the llm-service's answer, checked against the contract at this edge. */
  private feedbackFrom(done: ChatStreamMessage): Feedback {
    if (done.type !== 'done' || !done.value) {
      const reason = done.type === 'done' && done.stop_reason === 'max_tokens' ? `was cut by its token budget (FEEDBACK_MAX_TOKENS=${this.config.feedbackMaxTokens})` : 'came back empty';
      throw new ParleyError('ENGINE_FAILED', `the feedback ${reason}`);
    }
    const parsed = feedbackSchema.safeParse(done.value);
    if (!parsed.success) throw new ParleyError('ENGINE_FAILED', 'the feedback does not match the feedback schema');
    return parsed.data;
  }
}
